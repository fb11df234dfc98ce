"""Schema 4: time-ordered (UUIDv7) ids, `recorded_at` stored as integer microseconds, and the
migration from schema 3 on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from incident_core import Application, open_store
from incident_core.envelope import format_micros, micros
from incident_core.errors import StoreError
from incident_core.examples.bank import DepositMoney, OpenAccount, RequestTransfer, domain
from incident_core.ids import id_time_ms, new_id
from incident_core.operations import verify
from incident_core.progress import run_to_end
from incident_core.store.sql import schema
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.slim import checksum, lift_type, logical_metadata
from incident_core.store.sql.store import SqlEventStore
from tests.schema_downgrade import downgrade_to_3


# -- ids ----------------------------------------------------------------------------------
def test_ids_are_uuid7_time_ordered_and_unique_under_threads() -> None:
    made: list[list[str]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def work(n: int) -> None:
        start.wait()
        made[n].extend(new_id() for _ in range(3000))

    before = time.time_ns() // 1_000_000
    pool = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    after = time.time_ns() // 1_000_000
    every = [i for ids in made for i in ids]
    assert len(set(every)) == len(every) == 24_000
    for ids in made:  # each thread's ids strictly increase (text order = byte order)
        assert all(a < b for a, b in pairwise(ids))
    for i in every[::997]:
        parsed = uuid.UUID(i)
        assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, i)
        stamp = id_time_ms(i)
        assert stamp is not None and before <= stamp <= after + 1000  # +: counter spill
    assert id_time_ms(str(uuid.uuid4())) is None


def test_dispatch_makes_time_ordered_event_and_command_ids(store_target: str) -> None:
    with Application.open(store_target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        for amount in range(1, 6):
            app.dispatch(DepositMoney(aggregate_id="A", amount=amount))
        events = app.store.read_events()
    ids = [e.event_id for e in events]
    commands = [e.metadata["command_id"] for e in events]
    assert ids == sorted(ids) and commands == sorted(commands)
    assert {uuid.UUID(i).version for i in ids + commands} == {7}


# -- recorded_at ----------------------------------------------------------------------------
TIMES = [  # (given, as the store keeps and gives it back)
    ("2026-12-01T09:36:33.123456+00:00", "2026-12-01T09:36:33.123456+00:00"),
    ("2026-12-01T11:36:33.000001+02:00", "2026-12-01T09:36:33.000001+00:00"),
    ("1969-12-31T23:59:59.999999+00:00", "1969-12-31T23:59:59.999999+00:00"),
    ("0999-01-01T00:00:00+00:00", "0999-01-01T00:00:00.000000+00:00"),
    ("9999-12-31T23:59:59.999999+00:00", "9999-12-31T23:59:59.999999+00:00"),
    ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000000+00:00"),
]


def envelope(version: int, recorded_at: str) -> dict[str, Any]:
    return {"event_id": new_id(), "aggregate_id": "A", "aggregate_type": "Account",
            "event_type": "AccountOpened" if version == 1 else "MoneyDeposited",
            "version": version, "recorded_at": recorded_at,
            "data": {"account_number": "A"} if version == 1 else {"amount": version},
            "metadata": {}}


def test_recorded_at_round_trips_to_the_microsecond(store_target: str) -> None:
    with Application.open(store_target, domain, create=True) as app:
        live = app.import_events([envelope(n + 1, given) for n, (given, _) in enumerate(TIMES)])
        assert [e.recorded_at_text for e in live] == [kept for _, kept in TIMES]
        replayed = app.store.read_events()
        assert [e.to_json() for e in replayed] == [e.to_json() for e in live]
        for event, (_, kept) in zip(replayed, TIMES, strict=True):
            assert event.recorded_at.isoformat(timespec="microseconds") == kept
            assert event.recorded_at.utcoffset() is not None
        sorted_times = app.store.read_events_sorted(  # type: ignore[attr-defined]
            _sort("recorded_at"), limit=2)
        assert [e.version for e in sorted_times] == [4, 3]
        rest = app.store.read_events_sorted(  # type: ignore[attr-defined]
            _sort("recorded_at"), after=(sorted_times[-1].recorded_at_text, 3))
        assert [e.version for e in rest] == [6, 2, 1, 5]
    if store_target != "memory:":
        with open_store(store_target, read_only=True) as again:  # from storage alone
            assert [e.recorded_at_text for e in again.read_events()] == [k for _, k in TIMES]


def _sort(column: str) -> Any:
    from incident_core.ports.sorting import SortKey

    return SortKey(column)


def test_a_time_the_store_could_not_give_back_is_refused(tmp_path: Path) -> None:
    with Application.open(str(tmp_path / "s.sqlite3"), domain, create=True) as app:
        for bad in ("2026-12-01T09:36:33", "yesterday"):
            with pytest.raises(StoreError, match=r"recorded_at|isoformat"):
                app.import_events([envelope(1, bad)])
        assert app.store.event_count() == 0


def test_schema_4_stores_times_as_integers(shared_target: str) -> None:
    with Application.open(shared_target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        event = app.store.read_events()[0]
        store = app.store
        assert isinstance(store, SqlEventStore) and store.schema_version == SCHEMA_VERSION
        with store.engine.connect() as conn:
            stored = conn.execute(text("SELECT recorded_at FROM incident_events")).scalar()
    assert isinstance(stored, int) and format_micros(stored) == event.recorded_at_text
    assert micros(event.recorded_at_text) == stored


# -- the command type, lifted ------------------------------------------------------------
@pytest.mark.parametrize("rest", [
    {}, {"command_type": "DepositMoney"}, {"user": "ü", "command_type": "Open\"Quote"},
    {"command_type": "X", "user": 1},  # not last: stays in the JSON
    {"user": [1, 2.5, None], "command_type": ""},  # empty: stays
    {"command_type": 7}, {"nested": {"command_type": "Y"}},
])
def test_lifting_the_command_type_keeps_schema_3s_text(rest: dict[str, Any]) -> None:
    text3 = json.dumps(rest, separators=(",", ":"))
    stored, lifted = lift_type(text3)
    assert logical_metadata(stored, lifted) == text3
    last = list(rest)[-1:] == ["command_type"] and rest["command_type"] not in ("", 7)
    assert (lifted is not None) == last
    if lifted is not None:
        assert "command_type" not in json.loads(stored) and lifted == rest["command_type"]


def test_metadata_reads_back_as_recorded_in_order(store_target: str) -> None:
    with Application.open(store_target, domain, create=True) as app:
        live = app.dispatch(OpenAccount(aggregate_id="A"), metadata={"user": "ü", "n": 1})
        imported = envelope(2, "2026-12-01T09:36:33.123456+00:00")
        imported["metadata"] = {"command_type": "Old", "causation_id": "c", "user": "u"}
        app.import_events([imported])
        replayed = app.store.read_events()
    assert list(replayed[0].metadata.items()) == list(live.events[0].metadata.items())
    assert list(replayed[0].metadata)[-1] == "command_type"
    assert replayed[1].metadata == imported["metadata"]


# -- the migration 3 -> 4 -------------------------------------------------------------------
def bank_store(target: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A bank store with a completed transfer (a saga's events too), as schema 3: (every
    event's public JSON, every stream's)."""
    with Application.open(target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        app.dispatch(DepositMoney(aggregate_id="A", amount=50))
        app.dispatch(OpenAccount(aggregate_id="B"))
        app.dispatch(RequestTransfer(aggregate_id="T", source_account_number="A",
                                     destination_account_number="B", amount=20))
        events = [e.to_json() for e in app.store.read_events()]
        streams = [s.to_json() for s in app.store.streams()]
        assert isinstance(app.store, SqlEventStore)
        downgrade_to_3(app.store)
    return events, streams


def stored_rows(store: Any) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT position, event_id, version, recorded_at, checksum FROM incident_events "
            "ORDER BY position"))]


def test_migration_keeps_every_event_id_time_and_checksum(shared_target: str) -> None:
    events, streams = bank_store(shared_target)
    with open_store(shared_target, read_only=True) as old:  # schema 3, read as it is
        assert old.schema_version == 3  # type: ignore[attr-defined]
        assert [e.to_json() for e in old.read_events()] == events
        before = stored_rows(old)
    assert all(isinstance(r[3], str) for r in before)
    with Application.open(shared_target, domain) as app:  # writable: upgraded
        store = app.store
        assert isinstance(store, SqlEventStore) and store.schema_version == SCHEMA_VERSION
        assert [e.to_json() for e in store.read_events()] == events
        assert [list(e.metadata) for e in store.read_events()] == [
            list(e["metadata"]) for e in events]  # keys in their recorded order
        assert [s.to_json() for s in store.streams()] == streams
        after = stored_rows(store)
        with store.engine.connect() as conn:
            lifted = conn.execute(text(  # every event here was dispatched: typed
                "SELECT count(*) FROM incident_events WHERE command_type IS NOT NULL "
                "AND metadata NOT LIKE '%command_type%'")).scalar()
        assert lifted == len(events)
        assert [(p, i, v, format_micros(t), c) for p, i, v, t, c in after] == before
        assert run_to_end(verify(app)).ok  # checksums and projections agree with the log
        with store.engine.connect() as conn:
            version = conn.execute(text(
                "SELECT value FROM incident_meta WHERE key = 'schema_version'")).scalar()
        assert version == str(SCHEMA_VERSION)
        assert app.dispatch(DepositMoney(aggregate_id="B", amount=1)).ok
        assert app.store.read_events()[-1].position == len(events) + 1
    with open_store(shared_target) as again:  # a second open finds nothing to do
        assert again.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]
        names = _index_names(again)
    assert {index.name for index in schema.EVENT_INDEXES} <= names


def _index_names(store: Any) -> set[str]:
    from sqlalchemy import inspect

    with store.engine.connect() as conn:
        return {i["name"] for i in inspect(conn).get_indexes("incident_events")}


def test_a_schema_3_file_is_read_as_it_is_when_read_only(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    events, _ = bank_store(str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    names = {p.name for p in tmp_path.iterdir()}
    with open_store(str(path), read_only=True) as store:
        assert [e.to_json() for e in store.read_events()] == events
        correlation = store.read_stream("T")[0].correlation_id
        assert correlation is not None
        assert len(store.events_with_metadata("correlation_id", correlation)) == 5
        histogram = store.event_histogram(buckets=4)
        assert sum(sum(series) for series in histogram[1].values()) == len(events)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert {p.name for p in tmp_path.iterdir()} == names


def verify_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "incident_core.cli", "--db", str(path),
                           "verify"], capture_output=True, text=True, timeout=120, check=False)


def test_after_migration_verify_passes_and_still_sees_damage(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    bank_store(str(path))
    conn = sqlite3.connect(path)
    with conn:  # schema 3: one event changed outside Incident, one time in another form
        conn.execute("UPDATE incident_events SET data = replace(data, '50', '51') "
                     "WHERE position = 2")
        row = conn.execute("SELECT position, event_id, aggregate_id, aggregate_type, "
                           "event_type, version, recorded_at, data, metadata, schema_version, "
                           "command_id, causation_id, correlation_id FROM incident_events "
                           "WHERE position = 3").fetchone()
        short = row[6].replace(".", "").rsplit("+", 1)[0][:19] + "Z"  # no fraction, 'Z'
        values = (*row[:6], short, *row[7:])
        conn.execute("UPDATE incident_events SET recorded_at = ?, checksum = ? "
                     "WHERE position = 3", (short, checksum(*values)))
    conn.close()
    assert verify_cli(path).returncode == 3  # read-only: schema 3's checksums, as they are
    with open_store(str(path)) as upgraded:  # a writable open upgrades
        assert upgraded.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]
    done = verify_cli(path)
    assert done.returncode == 3, done.stderr
    assert "event #2" in done.stdout + done.stderr
    assert "event #3" not in done.stdout + done.stderr
    with open_store(str(path), read_only=True) as store:
        assert store.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]
        third = store.read_events()[2]
        assert third.recorded_at_text == short[:19] + ".000000+00:00"


def test_a_time_in_another_form_is_upgraded_with_its_stream(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Application.open(str(path), domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        assert isinstance(app.store, SqlEventStore)
        downgrade_to_3(app.store)
    conn = sqlite3.connect(path)
    with conn:  # as an older import could have written it: 'Z' for '+00:00'
        row = conn.execute("SELECT position, event_id, aggregate_id, aggregate_type, "
                           "event_type, version, recorded_at, data, metadata, schema_version, "
                           "command_id, causation_id, correlation_id FROM incident_events"
                           ).fetchone()
        canonical = row[6]
        short = canonical.replace("+00:00", "Z")
        conn.execute("UPDATE incident_events SET recorded_at = ?, checksum = ?",
                     (short, checksum(*row[:6], short, *row[7:])))
        conn.execute("UPDATE incident_streams SET last_recorded_at = ?", (short,))
    conn.close()
    assert verify_cli(path).returncode == 0  # schema 3, consistent as it is
    with open_store(str(path)) as store:  # upgraded
        assert store.read_events()[0].recorded_at_text == canonical
        assert store.streams()[0].last_recorded_at == canonical
    done = verify_cli(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_row_whose_time_is_no_time_stops_the_upgrade_and_loses_nothing(
        tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    events, _ = bank_store(str(path))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE incident_events SET recorded_at = '2026-01-01 12:00' "
                     "WHERE position = 4")  # no zone: not a time Incident wrote
    conn.close()
    with pytest.raises(StoreError, match="event #4 has recorded_at"):
        open_store(str(path))
    with open_store(str(path), read_only=True) as store:
        assert store.schema_version == 3  # type: ignore[attr-defined]
        assert [e.event_id for e in store.read_events()] == [e["event_id"] for e in events]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Application.open(str(path), domain, create=True):
        pass
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE incident_meta SET value = ? WHERE key = 'schema_version'",
                     (str(SCHEMA_VERSION + 1),))
    conn.close()
    with pytest.raises(StoreError, match="upgrade Incident"):
        open_store(str(path), read_only=True)
