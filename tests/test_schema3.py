"""Schema 3: every id stored once, partial indexes, a checksum per event checked by verify."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from incident_core import Application
from incident_core.examples.bank import DepositMoney, OpenAccount, RequestTransfer, domain
from incident_core.operations import verify
from incident_core.progress import run_to_end
from incident_core.store.sql.queries import linked
from incident_core.store.sql.slim import inflate, lift
from incident_core.store.sql.store import SqlEventStore


def bank_with_transfer(target: str) -> None:
    with Application.open(target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        app.dispatch(DepositMoney(aggregate_id="A", amount=50))
        app.dispatch(OpenAccount(aggregate_id="B"))
        app.dispatch(RequestTransfer(aggregate_id="T", source_account_number="A",
                                     destination_account_number="B", amount=20))


@pytest.mark.parametrize("metadata", [
    {},
    {"correlation_id": "e", "causation_id": "e", "command_id": "e"},
    {"correlation_id": "c", "causation_id": "c", "command_id": "c", "command_type": "X"},
    {"correlation_id": "r", "causation_id": "e0", "command_id": "c", "user": "u"},
    {"causation_id": "c", "user": None},  # no command id: the chain breaks there
    {"command_id": 7, "causation_id": "", "correlation_id": "r"},  # not liftable: kept in JSON
])
def test_lifting_ids_out_of_the_metadata_and_back_is_lossless(metadata: dict[str, object]) -> None:
    stored, columns = lift("e", metadata)
    assert inflate("e", stored, columns) == metadata
    for key in ("command_id", "causation_id", "correlation_id"):
        if isinstance(metadata.get(key), str) and metadata[key]:
            assert f'"{key}"' not in stored


def test_a_direct_command_stores_its_id_once(shared_target: str) -> None:
    bank_with_transfer(shared_target)
    with Application.open(shared_target, domain) as app:
        event = app.store.read_stream("A")[1]
        command_id = event.metadata["command_id"]
        assert command_id == event.event_id  # a direct command's id is its first event's
        assert event.metadata == {"correlation_id": command_id, "causation_id": command_id,
                                  "command_id": command_id, "command_type": "DepositMoney"}
        store = app.store
        assert isinstance(store, SqlEventStore)
        with store.engine.connect() as conn:
            row = conn.execute(text(
                "SELECT metadata, command_id, causation_id, correlation_id, command_type "
                "FROM incident_events WHERE event_id = :e"), {"e": event.event_id}).one()
        # schema 4 lifts the command type too
        assert tuple(row) == ("{}", None, None, None, "DepositMoney")
        assert json.loads(event.metadata_json) == event.metadata


def test_saga_chains_are_found_by_causation_and_correlation(shared_target: str) -> None:
    bank_with_transfer(shared_target)
    with Application.open(shared_target, domain) as app:
        requested = app.store.read_stream("T")[0]
        caused = app.store.events_with_metadata("causation_id", requested.event_id)
        # its command's id is its own id: the command's events, then what it caused
        assert [e.event_type for e in caused] == [
            "TransferRequested", "MoneySent", "TransferInitiated"]
        assert [e.causation_id == e.metadata["command_id"] for e in caused] == [
            True, False, False]
        correlated = app.store.events_with_metadata("correlation_id", requested.correlation_id
                                                    or "")
        assert [e.event_type for e in correlated] == [
            "TransferRequested", "MoneySent", "TransferInitiated", "MoneyReceived",
            "TransferCompleted"]
        for event in correlated:
            assert event.correlation_id == requested.correlation_id
            assert app.store.get_event(event.event_id) == event


def test_id_lookups_are_answered_by_index(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    bank_with_transfer(str(path))
    with Application.open(str(path), domain) as app:
        store = app.store
        assert isinstance(store, SqlEventStore)
        for key in ("causation_id", "correlation_id"):
            stmt = store.reads.select.where(linked(key, "x"))
            sql = str(stmt.compile(dialect=store.engine.dialect,
                                   compile_kwargs={"literal_binds": True}))
            with store.engine.connect() as conn:
                plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
            assert not any(p.startswith("SCAN") for p in plan), plan


def verify_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "incident_core.cli", "--db", str(path),
                           "verify"], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize(("column", "change"), [
    ("data", "replace(data, '50', '51')"),
    ("metadata", "'{\"user\":1}'"),
    ("command_type", "replace(command_type, 'Deposit', 'Dep0sit')"),  # schema 4's column
    ("recorded_at", "recorded_at + 1"),  # schema 4: microseconds
    ("command_id", "'x' || coalesce(command_id, event_id)"),  # NULL: the event id
    ("causation_id", "'someone-else'"),
    ("schema_version", "schema_version + 1"),
])
def test_verify_reports_every_changed_event(tmp_path: Path, column: str, change: str) -> None:
    path = tmp_path / "s.sqlite3"
    bank_with_transfer(str(path))
    assert verify_cli(path).returncode == 0
    conn = sqlite3.connect(path)
    with conn:  # constant test SQL, the change given above
        conn.execute(f"UPDATE incident_events SET {column} = {change} WHERE position = 2")
    conn.close()
    done = verify_cli(path)
    assert done.returncode == 3, done.stderr
    found = [m for m in json.loads(done.stdout)["mismatches"] if "checksum" in m]
    assert len(found) == 1 and found[0].startswith("event #2 ("), found


def test_the_wal_is_checkpointed_off_the_command_path_and_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Application.open(str(path), domain, create=True, synchronous="OFF") as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        store = app.store
        assert isinstance(store, SqlEventStore)
        with store._writer_lock:
            writer = store._writer
            assert writer is not None
            raw = writer.connection.driver_connection
            autocheckpoint = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert autocheckpoint == 0  # no checkpoint inside a command's COMMIT
        sizes = []
        for _round in range(6):
            for _ in range(400):
                assert app.dispatch(DepositMoney(aggregate_id="A", amount=1)).ok
            sizes.append((tmp_path / "s.sqlite3-wal").stat().st_size)
        assert store._checkpointer is not None and store._checkpointer.runs > 0
        # 2,400 commands write ~100 MB of WAL pages; checkpoints let SQLite reuse the file
        assert max(sizes) < 30_000_000, sizes
        assert sizes[-1] <= 2 * sizes[1], sizes
        state = app.state("A")
        assert state is not None and state.version == 2401
    assert not (tmp_path / "s.sqlite3-wal").exists()  # checkpointed and removed at close


def test_id_indexes_are_partial(shared_target: str) -> None:
    bank_with_transfer(shared_target)
    with Application.open(shared_target, domain) as app:
        store = app.store
        assert isinstance(store, SqlEventStore)
        query = ("SELECT indexdef FROM pg_indexes WHERE indexname = :n"
                 if store.dialect == "postgresql"
                 else "SELECT sql FROM sqlite_master WHERE name = :n")
        with store.engine.connect() as conn:
            for name in ("causation", "correlation", "command"):
                definition = conn.execute(text(query), {"n": f"incident_events_{name}"}).scalar()
                assert definition is not None and "WHERE" in definition.upper(), definition


def test_the_writers_cached_head_and_checkpoints_follow_other_writers(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite3")
    with Application.open(path, domain, create=True) as one, Application.open(path, domain) as two:
        for app, command in ((one, OpenAccount(aggregate_id="A")),
                             (two, OpenAccount(aggregate_id="B")),
                             (one, DepositMoney(aggregate_id="A", amount=5)),
                             (two, DepositMoney(aggregate_id="B", amount=7)),
                             (two, DepositMoney(aggregate_id="B", amount=1)),
                             (one, DepositMoney(aggregate_id="A", amount=1))):
            assert app.dispatch(command).ok
        events = one.store.read_events()
        assert [e.position for e in events] == list(range(1, len(events) + 1))
        head = one.store.head()
        assert set(one.store.checkpoints().values()) == {head}
        assert run_to_end(verify(one)).ok
        rows = {r["aggregate_id"]: r["balance"]
                for r in one.store.projection_rows(one.projection("bank_accounts").spec)}
        assert rows == {"A": 6, "B": 8}


def test_rebuild_pages_are_position_range_scans(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """No page of a rebuild is planned through the type index plus a temporary sort: the
    lean read (a range where most events are wanted) and the filtered one (after a range
    where few were) both scan a position range of the primary key."""
    import importlib

    from sqlalchemy import event as sa_event

    from incident_core.operations import rebuild

    # one position per range: the transfer's events (not bank_accounts') switch the next
    # range to the filtered read, an account's back to the lean one
    monkeypatch.setattr(importlib.import_module("incident_core.operations.rebuild"), "PAGE", 1)
    path = tmp_path / "s.sqlite3"
    bank_with_transfer(str(path))
    with Application.open(str(path), domain) as app:
        store = app.store
        assert isinstance(store, SqlEventStore)
        seen: list[str] = []  # as the driver ran them (the lean read is the driver's own)

        def trace(dbapi: sqlite3.Connection, _record: object, _proxy: object) -> None:
            dbapi.set_trace_callback(seen.append)

        def untrace(dbapi: sqlite3.Connection, _record: object) -> None:
            dbapi.set_trace_callback(None)

        sa_event.listen(store.engine.pool, "checkout", trace)
        sa_event.listen(store.engine.pool, "checkin", untrace)
        try:
            report = run_to_end(rebuild(app, ["bank_accounts"]))
        finally:
            sa_event.remove(store.engine.pool, "checkout", trace)
            sa_event.remove(store.engine.pool, "checkin", untrace)
        assert report.events_read > 0
        pages = [s for s in seen if "FROM incident_events" in s and "ORDER BY" in s]
        filtered = [s for s in pages if "event_type ||" in s]
        assert filtered and len(filtered) < len(pages), pages  # both reads were used
        raw = sqlite3.connect(path)
        for statement in pages:
            plan = [r[-1] for r in raw.execute("EXPLAIN QUERY PLAN " + statement)]
            assert not any("TEMP B-TREE" in p for p in plan), plan
            assert any("PRIMARY KEY" in p for p in plan), plan
        raw.close()
