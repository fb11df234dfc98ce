"""Row lineage: each projection row change with before/after values, on every adapter,
exact after a rebuild; and the preview's saga cascade."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from incident_core import Application
from incident_core.domain import Domain
from incident_core.envelope import RecordedEvent
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
    bank_accounts,
)
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.rebuild import rebuild
from incident_core.progress import run_to_end as run
from incident_core.projections import Projection


def _transfer_scene(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=100))
    bank.dispatch(OpenAccount(aggregate_id="B"))
    bank.dispatch(DepositMoney(aggregate_id="B", amount=5))
    assert bank.dispatch(RequestTransfer(aggregate_id="T", source_account_number="A",
                                         destination_account_number="B", amount=60)).ok


def _history(bank: Application, key: str) -> list[tuple[str, int | None, int | None]]:
    return [(e.event_type, None if e.before is None else e.before["balance"],
             None if e.after is None else e.after["balance"])
            for e in bank.row_history("bank_accounts", key)]


def test_a_transferred_to_account_lists_each_event_with_balances(bank: Application) -> None:
    _transfer_scene(bank)
    assert _history(bank, "B") == [("AccountOpened", None, 0), ("MoneyDeposited", 0, 5),
                                   ("MoneyReceived", 5, 65)]
    assert _history(bank, "A")[-1] == ("MoneySent", 100, 40)
    received = bank.row_history("bank_accounts", "B")[-1]
    stream = bank.store.read_stream("B")
    assert (received.position, received.event_id) == (stream[-1].position, stream[-1].event_id)
    assert received.kind == "changed" and "balance" in received.changed_fields
    changed = bank.rows_changed_by(received.event_id)
    assert [(e.projection, e.row_key) for e in changed] == [("bank_accounts", "B")]
    assert bank.rows_changed_by(received.position) == changed
    requested = bank.store.read_stream("T")[0]
    assert [(e.projection, e.row_key, e.kind) for e in bank.rows_changed_by(
        requested.position)] == [("transfers", "T", "created")]


def test_after_a_rebuild_the_lineage_is_identical(bank: Application) -> None:
    _transfer_scene(bank)
    bank.dispatch(WithdrawMoney(aggregate_id="B", amount=1))
    before = {(name, key): bank.row_history(name, key)
              for name, key in (("bank_accounts", "A"), ("bank_accounts", "B"),
                                ("transfers", "T"))}
    run(rebuild(bank, ["bank_accounts", "transfers"]))
    after = {(name, key): bank.row_history(name, key) for name, key in before}
    assert after == before and all(len(entries) >= 3 for entries in after.values())
    from incident_core.engine.lineage import STAGING

    assert bank.store.lineage_start("bank_accounts" + STAGING) is None  # promoted


def test_a_projection_can_opt_out(store_target: str) -> None:
    quiet = Projection("quiet_accounts", bank_accounts.row_type, lineage=False)
    quiet._handlers = dict(bank_accounts._handlers)
    domain = Domain(bank_domain.name, aggregates=list(bank_domain.aggregates.values()),
                    projections=[quiet], process_managers=list(
                        bank_domain.process_managers.values()))
    with Application.open(store_target, domain, create=True) as app:
        _transfer_scene(app)
        assert app.projection("quiet_accounts") is quiet
        assert app.store.projection_row_count(quiet.spec) == 2
        assert app.row_history("quiet_accounts", "B") == []
        run(rebuild(app, ["quiet_accounts"]))
        assert app.row_history("quiet_accounts", "B") == []
        assert app.rows_changed_by(app.store.head()) == []


def test_preview_shows_the_saga_cascade_that_dispatch_then_records(bank: Application) -> None:
    _transfer_scene(bank)
    command = RequestTransfer(aggregate_id="T2", source_account_number="B",
                              destination_account_number="A", amount=10)
    head = bank.store.head()
    preview = bank.preview(command)
    assert bank.store.head() == head and preview.cascade is not None
    cascade = preview.cascade
    assert [(e.event_type, e.aggregate_id) for e in cascade.events] == [
        ("MoneySent", "B"), ("TransferInitiated", "T2"), ("MoneyReceived", "A"),
        ("TransferCompleted", "T2")]
    assert set(cascade.recorded_by) == {"transfer_saga"}
    assert cascade.summary() == ("the transfer_saga would then record 4 more events "
                                 "on 3 aggregates")
    result = bank.dispatch(command)
    assert result.ok
    recorded = bank.store.read_events(after_position=head)[1:]
    assert [(e.event_type, e.aggregate_id) for e in recorded] == [
        (e.event_type, e.aggregate_id) for e in cascade.events]


def test_preview_shows_what_the_saga_would_reject(bank: Application) -> None:
    _transfer_scene(bank)
    cascade = bank.preview(RequestTransfer(aggregate_id="T3", source_account_number="A",
                                           destination_account_number="B",
                                           amount=1000)).cascade
    assert cascade is not None
    assert [e.event_type for e in cascade.events] == ["TransferCancelled"]
    assert [(r.command_type, r.reason) for r in cascade.rejections] == [
        ("SendMoney", "no_enough_balance")]
    assert "1 saga command would be rejected" in cascade.summary()


def _digest(path: Path) -> str:
    return "".join(hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in sorted(path.parent.glob(path.name + "*")))


def test_a_preview_leaves_the_sqlite_file_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "bank.sqlite3"
    with Application.open(str(path), bank_domain, create=True) as app:
        _transfer_scene(app)
    with Application.open(str(path), bank_domain) as app:
        before = _digest(path)
        preview = app.preview(RequestTransfer(aggregate_id="T9", source_account_number="A",
                                              destination_account_number="B", amount=1))
        assert preview.cascade is not None and len(preview.cascade.events) == 4
        assert _digest(path) == before


@pytest.mark.parametrize("bad", ["no-such"])
def test_unknown_projection_or_event(bank: Application, bad: str) -> None:
    from incident_core.errors import IncidentError, UnknownProjection

    with pytest.raises(UnknownProjection):
        bank.row_history(bad, "A")
    with pytest.raises(IncidentError):
        bank.rows_changed_by(bad)


def test_a_shadow_swap_with_events_arriving_keeps_the_lineage_exact(
        bank: Application) -> None:
    from incident_core.operations.shadow import shadow_rebuild

    _transfer_scene(bank)
    shadow = run(shadow_rebuild(bank, "bank_accounts"))
    bank.dispatch(DepositMoney(aggregate_id="B", amount=7))  # after the shadow's position
    expected = bank.row_history("bank_accounts", "B")
    assert expected[-1].after is not None and expected[-1].after["balance"] == 72
    shadow.swap()
    assert bank.row_history("bank_accounts", "B") == expected
    assert [e.projection for e in bank.rows_changed_by(expected[-1].event_id)] == [
        "bank_accounts"]


def test_a_deleted_row_is_recorded_with_no_values_after(store_target: str) -> None:
    from pydantic import BaseModel

    from incident_core.examples.bank import AccountOpened, MoneyWithdrawn
    from incident_core.projections import DELETE

    class Funded(BaseModel):
        aggregate_id: str
        funded: bool

    funded = Projection("funded", Funded)

    @funded.on(AccountOpened)
    def opened(row: Funded | None, event: AccountOpened, recorded: RecordedEvent) -> Funded:
        return Funded(aggregate_id=recorded.aggregate_id, funded=True)

    @funded.on(MoneyWithdrawn)
    def withdrawn(row: Funded | None, event: MoneyWithdrawn,
                  recorded: RecordedEvent) -> object:
        return DELETE

    domain = Domain(bank_domain.name, aggregates=list(bank_domain.aggregates.values()),
                    projections=[funded])
    with Application.open(store_target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        app.dispatch(DepositMoney(aggregate_id="A", amount=10))
        app.dispatch(WithdrawMoney(aggregate_id="A", amount=10))
        history = app.row_history("funded", "A")
        assert [(e.event_type, e.kind) for e in history] == [
            ("AccountOpened", "created"), ("MoneyWithdrawn", "deleted")]
        assert history[-1].before == {"aggregate_id": "A", "funded": True}
        assert history[-1].after is None
        run(rebuild(app, ["funded"]))
        assert app.row_history("funded", "A") == history
