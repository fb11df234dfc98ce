"""A saga step that raises is parked durably; everything else goes on (every adapter)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from incident_core import Accepted, Application, IncidentError, ParkedStep
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
    bank_accounts,
    transfers,
)
from incident_core.examples.bank import domain as bank_domain
from tests import trust_domain as t

BIG = 2**63 - 1


@pytest.fixture
def ledger(store_target: str) -> Iterator[Application]:
    t.FAIL["auditor"] = True
    app = Application.open(store_target, t.domain, create=True)
    try:
        yield app
    finally:
        app.close()
        t.FAIL["auditor"] = True


def post(app: Application, account: str) -> tuple[uuid.UUID, Accepted]:
    ledger_id = uuid.uuid4()
    result = app.dispatch(t.Post(aggregate_id=ledger_id, legs=[t.Leg(account=account,
                                                                       amount=1)]))
    assert isinstance(result, Accepted)
    return ledger_id, result


def notes_of(app: Application, aggregate_id: str) -> list[str]:
    return [e.data["text"] for e in app.store.read_stream(aggregate_id)]


def test_a_raising_handler_is_parked_and_everything_else_goes_on(ledger: Application) -> None:
    bad_id, result = post(ledger, "boom")
    [step] = result.saga_failures
    assert (step.process_manager, step.event_type, step.status, step.attempts) == (
        "auditor", "Posted", "parked", 1)
    assert step.position == result.events[0].position
    assert step.error == "ValueError: boom"
    assert "Traceback" in step.traceback and "raise ValueError" in step.traceback
    assert step.correlation_id == result.events[0].correlation_id
    assert notes_of(ledger, f"echo-{bad_id}") == ["normal"]  # the other manager went on
    assert notes_of(ledger, f"audit-{bad_id}") == []
    good_id, good = post(ledger, "fine")  # later events are handled
    assert good.saga_failures == ()
    assert notes_of(ledger, f"audit-{good_id}") == ["audited"]
    assert ledger.parked_steps() == [step]
    assert ledger.store.checkpoints()["auditor"] == ledger.store.head()


def test_parked_steps_are_durable_and_open_never_fails(store_target: str) -> None:
    if store_target == "memory:":
        pytest.skip("a memory store does not outlive its application")
    t.FAIL["auditor"] = True
    with Application.open(store_target, t.domain, create=True) as app:
        _, result = post(app, "boom")
    with Application.open(store_target, t.domain) as again:
        assert again.parked_steps() == list(result.saga_failures)
        assert post(again, "fine")[1].saga_failures == ()


def test_retry_after_a_fix_runs_the_handler_and_unparks(ledger: Application) -> None:
    bad_id, result = post(ledger, "boom")
    [step] = result.saga_failures
    failed_again = ledger.retry_parked("auditor", step.position)
    assert isinstance(failed_again, ParkedStep)
    assert failed_again.attempts == 2 and failed_again.status == "parked"
    assert ledger.parked_steps() == [failed_again]
    t.FAIL["auditor"] = False
    assert ledger.retry_parked("auditor", step.position) is None
    assert ledger.parked_steps(include_skipped=True) == []
    assert notes_of(ledger, f"audit-{bad_id}") == ["audited"]


def test_skip_records_the_reason(ledger: Application) -> None:
    _, result = post(ledger, "boom")
    [step] = result.saga_failures
    skipped = ledger.skip_parked("auditor", step.position, "refunded by hand")
    assert (skipped.status, skipped.skip_reason) == ("skipped", "refunded by hand")
    assert ledger.parked_steps() == []
    assert ledger.parked_steps(include_skipped=True) == [skipped]
    with pytest.raises(IncidentError, match="no parked step"):
        ledger.skip_parked("auditor", step.position + 100, "x")
    with pytest.raises(IncidentError, match="unknown process manager"):
        ledger.retry_parked("nobody", step.position)
    with pytest.raises(IncidentError, match="reason"):
        ledger.skip_parked("auditor", step.position, "  ")


def test_a_saga_command_with_a_201_character_id_parks_and_the_store_stays_usable(
        bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=100))
    result = bank.dispatch(RequestTransfer(aggregate_id="T1", source_account_number="A",
                                           destination_account_number="B" * 201, amount=10))
    assert isinstance(result, Accepted)
    [step] = result.saga_failures
    assert step.process_manager == "transfer_saga" and step.event_type == "TransferInitiated"
    assert "aggregate_id" in step.error
    assert bank.dispatch(DepositMoney(aggregate_id="A", amount=1)).ok
    assert bank.run_process_managers() == 0
    reopened = Application(bank.store, bank_domain)
    assert reopened.parked_steps() == [step]


def test_a_transfer_into_a_full_account_parks_then_completes_on_retry(
        bank: Application) -> None:
    for account, amount in (("A", 100), ("B", BIG)):
        bank.dispatch(OpenAccount(aggregate_id=account))
        bank.dispatch(DepositMoney(aggregate_id=account, amount=amount))
    result = bank.dispatch(RequestTransfer(aggregate_id="T1", source_account_number="A",
                                           destination_account_number="B", amount=10))
    assert isinstance(result, Accepted)
    [step] = result.saga_failures
    assert "bank_accounts" in step.error and "balance" in step.error
    assert bank.dispatch(DepositMoney(aggregate_id="A", amount=1)).ok  # not stuck
    rows = {r["aggregate_id"]: r for r in bank.store.projection_rows(bank_accounts.spec)}
    assert rows["B"]["balance"] == BIG
    assert bank.dispatch(WithdrawMoney(aggregate_id="B", amount=50)).ok
    assert bank.retry_parked("transfer_saga", step.position) is None
    rows = {r["aggregate_id"]: r for r in bank.store.projection_rows(bank_accounts.spec)}
    assert rows["B"]["balance"] == BIG - 40
    [transfer] = bank.store.projection_rows(transfers.spec)
    assert transfer["status"] == "completed"
    assert bank.parked_steps(include_skipped=True) == []


def test_a_saga_command_the_store_cannot_write_parks(ledger: Application) -> None:
    """No store keeps a NUL in an aggregate id (PostgreSQL's text refuses it): the saga's
    own command is refused alike on every adapter, and only its step parks."""
    ledger_id = uuid.uuid4()
    result = ledger.dispatch(t.Post(aggregate_id=ledger_id, kind=t.Kind.URGENT,
                                    legs=[t.Leg(account="x\x00y", amount=1)]))
    assert isinstance(result, Accepted)
    [step] = result.saga_failures
    assert step.process_manager == "mirror"
    assert "aggregate_id: holds a NUL character" in step.error
    assert notes_of(ledger, f"echo-{ledger_id}") == ["urgent"]
    assert post(ledger, "fine")[1].saga_failures == ()


def test_a_store_failure_after_the_commit_still_reports_accepted(ledger: Application) -> None:
    """Issue 9: the command's events are recorded, so the result is Accepted; the sagas did
    not run (nothing parked) and resume on a later write."""
    ledger_id = uuid.uuid4()
    result = ledger.dispatch(t.Post(aggregate_id=ledger_id,
                                    legs=[t.Leg(account="locked", amount=1)]))
    assert isinstance(result, Accepted) and result.saga_failures == ()
    assert result.saga_error is not None and "database is locked" in result.saga_error
    assert ledger.state(ledger_id) is not None
    assert ledger.parked_steps() == []
    assert ledger.store.checkpoints().get("auditor", 0) < result.events[0].position
    t.FAIL["auditor"] = False
    assert ledger.run_process_managers() > 0
    assert notes_of(ledger, f"audit-{ledger_id}") == ["audited"]
    assert ledger.saga_error is None


def test_opening_never_fails_because_of_saga_work(store_target: str) -> None:
    if store_target == "memory:":
        pytest.skip("a memory store does not outlive its application")
    t.FAIL["auditor"] = True
    with Application.open(store_target, t.domain, create=True) as app:
        app.dispatch(t.Post(aggregate_id=uuid.uuid4(), legs=[t.Leg(account="locked",
                                                                      amount=1)]))
    with Application.open(store_target, t.domain) as again:
        assert again.saga_error is not None and "database is locked" in again.saga_error
    t.FAIL["auditor"] = False
    with Application.open(store_target, t.domain) as fixed:
        assert fixed.saga_error is None
        assert fixed.store.checkpoints()["auditor"] == fixed.store.head()
