"""Saga decisions: a command a process-manager step dispatched and the domain rejected is
kept with the step (`incident_saga_outcomes`) and shown by `trace`; events a step's commands
recorded name their manager."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from incident_core import Application
from incident_core.cli.main import main
from incident_core.domain import Domain
from incident_core.examples.bank import (
    DepositMoney,
    RequestTransfer,
    TransferRequested,
    account,
    bank_accounts,
    transfer,
    transfer_saga,
    transfers,
)
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations import rebuild, verify
from incident_core.operations.trace import Conversation, trace_app
from incident_core.process import ProcessManager, SagaContext
from incident_core.progress import run_to_end
from incident_core.store.memory import MemoryEventStore
from tests.test_trace import request, setup_accounts


def rejected_nodes(conversation: Conversation) -> list[tuple[str, str, str, str]]:
    return [(n.label, n.lane, n.reason, n.status) for n in conversation.nodes if n.rejected]


def test_the_rejected_send_of_a_cancelled_transfer_is_kept(bank: Application) -> None:
    setup_accounts(bank)
    conversation = trace_app(bank, request(bank, "T2", "B", 1000))
    assert rejected_nodes(conversation) == [("SendMoney", "A", "no_enough_balance", "rejected")]
    step = next(n for n in conversation.nodes if n.kind == "step")
    assert step.status == "ok"  # it decided: send (rejected), then cancel
    send = next(n for n in conversation.nodes if n.rejected)
    assert send.kind == "command" and send.parent == step.node_id and send.position is None
    assert send.to_json()["reason"] == "no_enough_balance"
    [outcome] = bank.store.saga_outcomes(correlation_id=conversation.correlation_id)
    assert (outcome.process_manager, outcome.command_type, outcome.aggregate_id) == (
        "transfer_saga", "SendMoney", "A")
    assert outcome.cause_event_id == step.parent
    cause = bank.store.get_event(str(step.parent))
    assert cause is not None and outcome.cause_position == cause.position
    assert bank.store.saga_outcomes(correlation_id="nope") == []


def test_replay_rebuild_and_verify_are_unaffected(bank: Application) -> None:
    setup_accounts(bank)
    correlation = trace_app(bank, request(bank, "T2", "B", 1000)).correlation_id
    assert run_to_end(verify(bank, deep=True)).ok
    run_to_end(rebuild(bank, list(bank.domain.projections)))
    assert run_to_end(verify(bank, deep=True)).ok
    assert len(bank.store.saga_outcomes(correlation_id=correlation)) == 1
    state = bank.state("T2")
    assert state is not None and state.state.model_dump()["status"] == "cancelled"


def test_a_preview_records_no_outcome(bank: Application) -> None:
    setup_accounts(bank)
    head = bank.store.head()
    command = RequestTransfer(aggregate_id="T2", source_account_number="A",
                              destination_account_number="B", amount=1000)
    cascade = bank.preview(command).cascade
    assert cascade is not None and [r.reason for r in cascade.rejections] == [
        "no_enough_balance"]
    assert bank.store.head() == head
    conversation = trace_app(bank, request(bank, "T2", "B", 1000))
    assert len(rejected_nodes(conversation)) == 1  # the dispatch's, none from the preview


def test_a_preview_leaves_a_sqlite_file_without_the_table(tmp_path: Path) -> None:
    path = tmp_path / "bank.sqlite3"
    with Application.open(str(path), bank_domain, create=True) as app:
        setup_accounts(app)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with Application.open(str(path), bank_domain) as app:
        app.preview(RequestTransfer(aggregate_id="T2", source_account_number="A",
                                    destination_account_number="B", amount=1000))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_two_managers_of_one_event_type_get_their_own_follow_ups() -> None:
    """`gift_saga` comes first: without the manager in the metadata, every follow-up of
    TransferRequested would be drawn under it."""
    gift = ProcessManager("gift_saga")

    @gift.on(TransferRequested)
    def give(event: TransferRequested, recorded: object, ctx: SagaContext) -> None:
        ctx.dispatch(DepositMoney(aggregate_id="B", amount=1))
        ctx.dispatch(DepositMoney(aggregate_id="nobody", amount=1))  # rejected: no account

    domain = Domain("bank", aggregates=[account, transfer],
                    projections=[bank_accounts, transfers],
                    process_managers=[gift, transfer_saga])
    app = Application(MemoryEventStore(), domain)
    setup_accounts(app)
    conversation = trace_app(app, request(app, "T1", "B", 10))
    labels = {n.node_id: n.label for n in conversation.nodes}
    under = {(n.label, n.status): labels[n.parent] for n in conversation.nodes
             if n.kind == "command" and n.parent is not None and n.parent.startswith("step:")
             and n.parent.endswith(conversation.nodes[1].node_id)}
    assert under == {("DepositMoney", "ok"): "gift_saga",
                     ("DepositMoney", "rejected"): "gift_saga",
                     ("SendMoney", "ok"): "transfer_saga",
                     ("InitiateTransfer", "ok"): "transfer_saga"}
    sent = next(n for n in conversation.nodes if n.label == "MoneySent")
    assert sent.event is not None and sent.event.metadata["process_manager"] == "transfer_saga"


@pytest.fixture
def cancelled(tmp_path: Path) -> tuple[str, str]:
    db = str(tmp_path / "store.sqlite3")
    with Application.open(db, bank_domain, create=True) as app:
        setup_accounts(app)
        event_id = request(app, "T2", "B", 1000)
    return db, event_id


def test_cli_trace_shows_the_rejection(cancelled: tuple[str, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    db, event_id = cancelled
    assert main(["trace", event_id, "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[4].startswith("        ▶ SendMoney  [A]  +")
    assert "✗ rejected: no_enough_balance" in lines[4]
    assert lines[5].startswith("        ▶ CancelTransfer  [T2]")
    assert main(["trace", event_id, "--db", db, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    [send] = [n for n in out["nodes"] if n["status"] == "rejected"]
    assert (send["kind"], send["label"], send["lane"], send["reason"]) == (
        "command", "SendMoney", "A", "no_enough_balance")
    assert [send["parent"], send["id"]] in out["edges"]
