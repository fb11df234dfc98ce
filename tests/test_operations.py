"""Long operations: rebuild, verify, demo, export/import (driven as plain generators)."""

from __future__ import annotations

import importlib
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application, StoreError, UnknownProjection
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
    domain,
)
from incident_core.operations import (
    ImportFileError,
    demo,
    export_events,
    import_events,
    rebuild,
    verify,
)
from incident_core.progress import Progress, run_to_end

# The module, not the function of the same name the package re-exports.
rebuild_module = importlib.import_module("incident_core.operations.rebuild")

NAMES = ["bank_accounts", "transfers"]


def rows(app: Application, name: str) -> list[dict[str, Any]]:
    return app.store.projection_rows(app.projection(name).spec)


def all_rows(app: Application) -> dict[str, list[dict[str, Any]]]:
    return {name: rows(app, name) for name in NAMES}


def scenario(app: Application) -> None:
    """Accounts, money moves, and transfers that complete, are cancelled or reverted."""
    for name in ("A", "B", "C"):
        assert app.dispatch(OpenAccount(aggregate_id=name)).ok
    app.dispatch(DepositMoney(aggregate_id="A", amount=500))
    app.dispatch(DepositMoney(aggregate_id="B", amount=50))
    app.dispatch(WithdrawMoney(aggregate_id="A", amount=20))
    moves = [("T1", "A", "B", 100), ("T2", "B", "C", 10_000), ("T3", "A", "ghost", 30),
             ("T4", "C", "A", 1)]
    for transfer_id, source, destination, amount in moves:
        assert app.dispatch(RequestTransfer(aggregate_id=transfer_id,
                                            source_account_number=source,
                                            destination_account_number=destination,
                                            amount=amount)).ok


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Application]:
    app = Application.open(str(tmp_path / "ops.sqlite3"), domain, create=True)
    try:
        yield app
    finally:
        app.close()


def tamper(app: Application, sql: str, *params: Any) -> None:
    conn = sqlite3.connect(app.store.target)
    try:
        assert conn.execute(sql, params).rowcount >= 1
        conn.commit()
    finally:
        conn.close()


def progress_of(operation: Iterator[Progress], steps: int) -> list[Progress]:
    return [next(operation) for _ in range(steps)]


# -- rebuild ------------------------------------------------------------------------------
def test_rebuild_gives_the_live_rows(bank: Application) -> None:
    scenario(bank)
    live = all_rows(bank)
    assert {r["status"] for r in live["transfers"]} == {"completed", "cancelled"}
    report = run_to_end(rebuild(bank, NAMES))
    assert all_rows(bank) == live
    assert [(p.name, p.rows) for p in report.projections] == [("bank_accounts", 3),
                                                              ("transfers", 4)]
    assert report.head == bank.store.head() and report.events_read == report.head
    assert sum(p.events_applied for p in report.projections) == report.head
    assert bank.store.checkpoints()["transfers"] == bank.store.head()


def test_rebuild_of_a_demo_store_gives_the_live_rows(sqlite_app: Application) -> None:
    run_to_end(demo(sqlite_app, accounts=25, transfers=300, seed=7))
    live = all_rows(sqlite_app)
    report = run_to_end(rebuild(sqlite_app, NAMES))
    assert all_rows(sqlite_app) == live
    assert report.events_per_second > 0


def test_rebuild_repairs_a_damaged_projection(sqlite_app: Application) -> None:
    scenario(sqlite_app)
    live = rows(sqlite_app, "bank_accounts")
    tamper(sqlite_app, "UPDATE bank_accounts SET balance = 999999 WHERE aggregate_id = 'A'")
    tamper(sqlite_app, "DELETE FROM bank_accounts WHERE aggregate_id = 'B'")
    run_to_end(rebuild(sqlite_app, ["bank_accounts"]))
    assert rows(sqlite_app, "bank_accounts") == live


def test_rebuild_reports_progress_to_the_head(sqlite_app: Application,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild_module, "EVERY", 10)
    scenario(sqlite_app)
    operation = rebuild(sqlite_app, NAMES)
    seen = []
    while True:
        try:
            seen.append(next(operation))
        except StopIteration:
            break
    head = sqlite_app.store.head()
    assert len(seen) > 3 and all(p.total == head for p in seen)
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].done == head


def test_a_cancelled_rebuild_writes_nothing(sqlite_app: Application,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild_module, "EVERY", 5)
    scenario(sqlite_app)
    tamper(sqlite_app, "UPDATE bank_accounts SET balance = 999999 WHERE aggregate_id = 'A'")
    damaged, checkpoints = all_rows(sqlite_app), sqlite_app.store.checkpoints()
    for stop_after in (3, 1_000_000):
        operation = rebuild(sqlite_app, NAMES)
        for n, progress in enumerate(operation, start=1):
            if n == stop_after or progress.message == "writing rows":
                break  # the last yield comes before any write: stopping there is safe too
        operation.close()
        assert all_rows(sqlite_app) == damaged
        assert sqlite_app.store.checkpoints() == checkpoints


def test_rebuild_of_an_unknown_projection_reads_nothing(bank: Application) -> None:
    with pytest.raises(UnknownProjection):
        run_to_end(rebuild(bank, ["nope"]))


def test_rebuild_catches_up_with_events_recorded_meanwhile(sqlite_app: Application) -> None:
    scenario(sqlite_app)
    operation = rebuild(sqlite_app, ["bank_accounts"])
    next(operation)
    sqlite_app.dispatch(DepositMoney(aggregate_id="C", amount=7))
    run_to_end(operation)
    balances = {r["aggregate_id"]: r["balance"] for r in rows(sqlite_app, "bank_accounts")}
    assert balances["C"] == 7  # C had nothing (T4 was cancelled); the deposit is not lost
    assert sqlite_app.store.checkpoints()["bank_accounts"] == sqlite_app.store.head()


# -- verify -------------------------------------------------------------------------------
def test_verify_passes_on_a_good_store(bank: Application) -> None:
    scenario(bank)
    report = run_to_end(verify(bank))
    assert report.ok, report.mismatches
    assert report.events == bank.store.head()
    assert report.streams == 7
    assert report.projections == {"bank_accounts": 3, "transfers": 4}


def test_verify_passes_on_a_demo_store(sqlite_app: Application) -> None:
    run_to_end(demo(sqlite_app, accounts=20, transfers=200, seed=3))
    report = run_to_end(verify(sqlite_app))
    assert report.ok, report.mismatches
    assert report.to_json()["mismatches"] == []


def mismatches(app: Application) -> list[str]:
    report = run_to_end(verify(app))
    assert not report.ok and report.mismatch_count == len(report.mismatches)
    return report.mismatches


def changed_outside(app: Application, position: int) -> str:
    """Verify's line for an event changed behind the store's back (its checksum)."""
    [event] = app.store.read_events(after_position=position - 1, limit=1)
    return (f"event #{position} ({event.event_id}): its stored content does not match its "
            "checksum (changed outside Incident)")


def test_verify_reports_a_tampered_projection_row(sqlite_app: Application) -> None:
    scenario(sqlite_app)
    tamper(sqlite_app, "UPDATE bank_accounts SET balance = balance + 1 WHERE aggregate_id = 'A'")
    [line] = mismatches(sqlite_app)
    assert line.startswith("projection bank_accounts: row A differs: balance stored ")


def test_verify_reports_missing_and_extra_rows(sqlite_app: Application) -> None:
    scenario(sqlite_app)
    tamper(sqlite_app, "DELETE FROM transfers WHERE aggregate_id = 'T1'")
    tamper(sqlite_app, "INSERT INTO bank_accounts SELECT 'Z', 'Z', 0, 1, event_id, "
                       "event_date FROM bank_accounts WHERE aggregate_id = 'A'")
    assert sorted(mismatches(sqlite_app)) == [
        "projection bank_accounts: row Z is stored but replay does not produce it",
        "projection transfers: row T1 is missing (replay produces it)"]


def test_verify_reports_tampered_event_data(sqlite_app: Application) -> None:
    scenario(sqlite_app)
    position = sqlite_app.store.read_stream("B")[1].position  # the deposit of 50
    tamper(sqlite_app, "UPDATE incident_events SET data = '{\"amount\":51}' WHERE position = ?",
           position)
    line, checksum = mismatches(sqlite_app)
    assert line.startswith("projection bank_accounts: row B differs: balance stored ")
    assert checksum == changed_outside(sqlite_app, position)
    tamper(sqlite_app, "UPDATE incident_events SET data = '{\"amount\":\"lots\"}' "
                       "WHERE position = ?", position)
    lines = mismatches(sqlite_app)
    assert lines[0] == (f"event #{position} (B v2): MoneyDeposited does not decode: "
                        "amount: Input should be a valid integer, unable to parse string as "
                        "an integer")


def test_verify_reports_unknown_event_types_and_version_gaps(sqlite_app: Application) -> None:
    scenario(sqlite_app)
    first = sqlite_app.store.read_stream("C")[0].position
    tamper(sqlite_app, "UPDATE incident_events SET event_type = 'Mystery' WHERE position = ?",
           first)
    lines = mismatches(sqlite_app)
    assert f"event #{first} (C v1): Mystery is not an event of Account" in lines
    assert (f"event #{first} (C v1): event type 'Mystery' is unknown to the domain 'bank'"
            in lines)
    tamper(sqlite_app, "UPDATE incident_events SET event_type = 'AccountOpened' "
                       "WHERE position = ?", first)
    opened, deposited = sqlite_app.store.read_stream("A")[:2]
    tamper(sqlite_app, "UPDATE incident_events SET version = 9 WHERE position = ?",
           opened.position)
    assert mismatches(sqlite_app) == [
        f"event #{opened.position} (A v9): version 9 where 1 was expected",
        f"event #{deposited.position} (A v2): version 2 where 10 was expected",
        changed_outside(sqlite_app, opened.position)]


def test_verify_reports_a_wrong_streams_table(sqlite_app: Application) -> None:
    scenario(sqlite_app)
    tamper(sqlite_app, "UPDATE incident_streams SET event_count = 99 WHERE aggregate_id = 'A'")
    tamper(sqlite_app, "DELETE FROM incident_streams WHERE aggregate_id = 'T2'")
    assert mismatches(sqlite_app) == [
        "stream A: streams table says event_count 99, the log says 6",
        "stream T2: has events but is missing from the streams table"]


# -- demo ---------------------------------------------------------------------------------
def comparable(app: Application) -> dict[str, list[dict[str, Any]]]:
    """Projection rows without what differs between two runs (event ids and dates)."""
    return {name: [{k: v for k, v in r.items() if k not in ("event_id", "event_date")}
                   for r in rows(app, name)] for name in NAMES}


def test_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    seen = []
    for n, seed in enumerate((5, 5, 6)):
        with Application.open(str(tmp_path / f"{n}.sqlite3"), domain, create=True) as app:
            report = run_to_end(demo(app, accounts=15, transfers=120, seed=seed,
                                     batch_size=50))
            seen.append((comparable(app), report.events, report.rejected))
    assert seen[0] == seen[1]
    assert seen[0][0] != seen[2][0]


def test_demo_runs_every_kind_of_transfer(sqlite_app: Application) -> None:
    report = run_to_end(demo(sqlite_app, accounts=30, transfers=400, seed=11))
    assert report.accounts == 30 and report.transfers == 400
    assert report.events == sqlite_app.store.head()
    assert report.commands == report.accepted + sum(report.rejected.values())
    accounts = rows(sqlite_app, "bank_accounts")
    assert [r["aggregate_id"] for r in accounts[:2]] == ["acc-00001", "acc-00002"]
    transfers = rows(sqlite_app, "transfers")
    assert len(transfers) == 400
    assert {r["status"] for r in transfers} == {"completed", "cancelled"}
    reverted = [t for t in transfers
                if "TransferReverted" in [e.event_type for e in
                                          sqlite_app.store.read_stream(t["aggregate_id"])]]
    assert reverted and all(t["destination_account_number"].startswith("acc-missing-")
                            for t in reverted)
    overdrawn = [t for t in transfers if t["amount"] >= 1_000_000]
    assert overdrawn and all(t["status"] == "cancelled" for t in overdrawn)
    assert sum(r["balance"] for r in accounts) == sum(
        e.data["amount"] if e.event_type == "MoneyDeposited" else -e.data["amount"]
        for batch in sqlite_app.store.iter_events()
        for e in batch if e.event_type in ("MoneyDeposited", "MoneyWithdrawn"))


def test_a_stopped_demo_leaves_a_consistent_store(sqlite_app: Application) -> None:
    operation = demo(sqlite_app, accounts=20, transfers=300, seed=2, batch_size=40)
    progress_of(operation, 5)
    operation.close()
    assert sqlite_app.store.head() > 0
    assert run_to_end(verify(sqlite_app)).ok


def test_demo_refuses_bad_settings(bank: Application) -> None:
    with pytest.raises(ValueError, match="at least two accounts"):
        run_to_end(demo(bank, accounts=1, transfers=3))
    assert bank.store.head() == 0


# -- export / import -----------------------------------------------------------------------
def exported(app: Application) -> str:
    buffer = io.StringIO()
    count = run_to_end(export_events(app.store, buffer))
    assert count == app.store.head()
    return buffer.getvalue()


def test_export_then_import_round_trips(bank: Application, tmp_path: Path) -> None:
    scenario(bank)
    text = exported(bank)
    lines = text.splitlines()
    assert [json.loads(line)["position"] for line in lines] == list(range(1, len(lines) + 1))
    with Application.open(str(tmp_path / "copy.sqlite3"), domain, create=True) as copy:
        assert run_to_end(import_events(copy, text.splitlines(keepends=True))) == len(lines)
        assert exported(copy) == text
        assert all_rows(copy) == all_rows(bank)
        assert run_to_end(verify(copy)).ok


def test_importing_twice_is_refused_and_changes_nothing(bank: Application) -> None:
    scenario(bank)
    with Application.open("memory:", domain) as copy:
        run_to_end(import_events(copy, exported(bank).splitlines()))
        before = exported(copy)
        with pytest.raises(StoreError, match=r"already in the store .* nothing was imported"):
            run_to_end(import_events(copy, exported(bank).splitlines()))
        assert exported(copy) == before


def test_import_refuses_a_stream_it_would_not_continue(bank: Application) -> None:
    scenario(bank)
    with Application.open("memory:", domain) as copy:
        copy.dispatch(OpenAccount(aggregate_id="A"))
        with pytest.raises(StoreError, match="stream A is at version 1 in the store"):
            run_to_end(import_events(copy, exported(bank).splitlines()))
        assert copy.store.head() == 1


def envelope(**changes: Any) -> str:
    base = {"event_id": "e1", "aggregate_id": "A", "aggregate_type": "Account",
            "event_type": "AccountOpened", "version": 1,
            "recorded_at": "2024-05-01T10:00:00+02:00", "data": {"account_number": "A"}}
    base.update(changes)
    return json.dumps({k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize(("line", "message"), [
    ("{nope", "line 2: not JSON (Expecting property name enclosed in double quotes at column 2)"),
    ("[1]", "line 2: expected a JSON object, found list"),
    (envelope(event_id="e2", version=None), "line 2: missing field(s) version"),
    (envelope(event_id="e2", extra=1), "line 2: unexpected field(s) extra"),
    (envelope(event_id="e2", version="2"), 'line 2: version must be an integer, not "2"'),
    (envelope(event_id="e2", version=True), "line 2: version must be an integer, not true"),
    (envelope(event_id="e2", recorded_at="yesterday"),
     "line 2: recorded_at 'yesterday' is not an ISO 8601 time"),
    (envelope(event_id="e2", recorded_at="2024-05-01T10:00:00"),
     "line 2: recorded_at '2024-05-01T10:00:00' has no time zone"),
    (envelope(), "line 2: event id e1 already appears on line 1"),
    (envelope(event_id="e2", version=3), "line 2: stream A jumps from version 1 to 3"),
    (envelope(event_id="e2", version=2, aggregate_type="Transfer"),
     "line 2: stream A is a Account (line 1), not a Transfer"),
    (envelope(event_id="e2", aggregate_id="B", aggregate_type="Vault"),
     "line 2: aggregate type 'Vault' is not part of the domain 'bank'"),
    (envelope(event_id="e2", aggregate_id="B", event_type="TransferCompleted"),
     "line 2: 'TransferCompleted' is not an event of Account"),
    (envelope(event_id="e2", version=2, event_type="MoneyDeposited", data={"amount": "x"}),
     "line 2: MoneyDeposited data does not decode: amount: Input should be a valid integer, "
     "unable to parse string as an integer"),
])
def test_import_names_the_bad_line_and_writes_nothing(line: str, message: str) -> None:
    with Application.open("memory:", domain) as app:
        with pytest.raises(ImportFileError) as info:
            run_to_end(import_events(app, [envelope(), "", line]))
        assert str(info.value) == message.replace("line 2", "line 3")
        assert app.store.head() == 0


def test_import_keeps_ids_times_and_metadata(bank: Application) -> None:
    with Application.open("memory:", domain) as app:
        line = envelope(metadata={"correlation_id": "c", "causation_id": "c"})
        assert run_to_end(import_events(app, [line])) == 1
        [event] = app.store.read_stream("A")
        assert (event.event_id, event.recorded_at_text, event.metadata["correlation_id"]) == (
            "e1", "2024-05-01T08:00:00.000000+00:00", "c")
        assert rows(app, "bank_accounts")[0]["account_number"] == "A"


def test_a_cancelled_import_before_writing_writes_nothing(bank: Application) -> None:
    scenario(bank)
    with Application.open("memory:", domain) as copy:
        operation = import_events(copy, exported(bank).splitlines())
        next(operation)
        operation.close()
        assert copy.store.head() == 0
