"""The log's two uniqueness guards (event ids, stream versions) as named unique indexes:
refused alike on every adapter and on stores that have them as the UNIQUE constraints of
older code; deferred by a large import into an empty log (`store/sql/import_indexes.py`)
and built again before its commit, where a duplicate fails the whole import, named, and
leaves the store file byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import inspect, text

from incident_core import Application, ConcurrencyError, StoreError, open_store
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.operations import ImportFileError
from incident_core.operations.bulk_import import import_lines
from incident_core.ports import EventStore
from incident_core.progress import run_to_end
from incident_core.store.sql.store import SqlEventStore
from incident_core.testing.factory import pending
from tests.schema_downgrade import downgrade_to_3

GUARDS = ("incident_events_event_id", "incident_events_stream_version")
# The events table as the code before named indexes made it (schema 6, UNIQUE constraints:
# SQLite's undroppable autoindexes).
OLD_EVENTS = """CREATE TABLE incident_events (
    position INTEGER NOT NULL, recorded_at BIGINT NOT NULL, checksum BIGINT,
    version INTEGER NOT NULL, schema_version INTEGER NOT NULL, event_id TEXT NOT NULL,
    aggregate_id TEXT NOT NULL, aggregate_type TEXT NOT NULL, event_type TEXT NOT NULL,
    command_id TEXT, causation_id TEXT, correlation_id TEXT, command_type TEXT,
    data TEXT NOT NULL, metadata TEXT NOT NULL, PRIMARY KEY (position),
    CONSTRAINT incident_events_stream_version UNIQUE (aggregate_id, version),
    CONSTRAINT incident_events_event_id UNIQUE (event_id))"""


def indexes(path: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                            "AND tbl_name = 'incident_events' ORDER BY name").fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def make_old(path: Path) -> None:
    """Give an empty SQLite store the events table of the code before (constraints)."""
    with sqlite3.connect(path) as conn:
        others = [sql for name, sql in indexes(path) if name not in GUARDS]
        conn.execute("DROP TABLE incident_events")
        conn.execute(OLD_EVENTS)
        for sql in others:
            conn.execute(sql)


def make_old_postgres(store: SqlEventStore) -> None:
    """The same on PostgreSQL: the guards as the constraints older stores have."""
    with store.engine.begin() as conn:
        for name, columns in zip(GUARDS, ("event_id", "aggregate_id, version"), strict=True):
            conn.execute(text(f"DROP INDEX {name}"))
            conn.execute(text(f"ALTER TABLE incident_events ADD CONSTRAINT {name} "
                              f"UNIQUE ({columns})"))


def vessels(count: int, first: int = 1_000_000) -> list[dict[str, Any]]:
    """`count` checked envelopes, each a vessel registered (one event per stream)."""
    return [{"event_id": str(uuid4()), "aggregate_id": f"IMO{first + n}",
             "aggregate_type": "Vessel", "event_type": "VesselRegistered", "version": 1,
             "recorded_at": "2026-03-01T08:30:00.000000+00:00", "schema_version": 1,
             "data": {"name": f"Vessel {n}", "capacity_teu": 10, "speed_knots": 20.5},
             "metadata": {"causation_id": str(uuid4()), "command_type": "RegisterVessel"}}
            for n in range(count)]


def numbered(envelopes: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return list(enumerate((json.dumps(e) for e in envelopes), start=1))


@pytest.fixture
def store_file(tmp_path: Path) -> Iterator[tuple[Application, Path]]:
    path = tmp_path / "store.sqlite3"
    Application.open(str(path), shipping_domain, create=True).close()
    app = Application.open(str(path), shipping_domain)
    try:
        yield app, path
    finally:
        app.close()


def test_a_new_store_has_its_guards_as_named_unique_indexes(
        store_file: tuple[Application, Path]) -> None:
    _, path = store_file
    found = dict(indexes(path))
    for name in GUARDS:
        assert "CREATE UNIQUE INDEX" in str(found[name])
    assert not [name for name in found if name.startswith("sqlite_autoindex")]


@pytest.fixture(params=["memory", "sqlite", "sqlite-old",
                        pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("postgres-old", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    kind = str(request.param)
    if kind == "memory":
        target = "memory:"
    elif kind.startswith("sqlite"):
        target = str(tmp_path / "store.sqlite3")
    else:
        target = str(request.getfixturevalue("pg_url"))
    with open_store(target, create=True) as store:
        if kind == "sqlite-old":
            store.close()
            make_old(Path(target))
            with open_store(target) as old:
                yield old
            return
        if kind == "postgres-old":
            assert isinstance(store, SqlEventStore)
            make_old_postgres(store)
        yield store


def test_a_taken_id_or_version_is_refused_alike_on_every_store(any_store: EventStore) -> None:
    first = pending("a", 1)
    with any_store.transaction() as tx:
        tx.append([first])
    again = pending("b", 1)._replace(event_id=first.event_id)
    with pytest.raises(StoreError, match="already recorded"), any_store.transaction() as tx:
        tx.append([pending("c", 1), again])
    with pytest.raises(ConcurrencyError), any_store.transaction() as tx:
        tx.append([pending("d", 1), pending("a", 1)])
    assert [e.event_id for e in any_store.read_events()] == [first.event_id]


def test_a_store_upgraded_from_schema_3_has_named_guards(shared_target: str) -> None:
    with open_store(shared_target, create=True) as store:
        first = pending("a", 1)
        with store.transaction() as tx:
            tx.append([first, pending("a", 2)])
        assert isinstance(store, SqlEventStore)
        downgrade_to_3(store)
    with open_store(shared_target) as store:  # writable: upgraded
        assert isinstance(store, SqlEventStore) and store.schema_version > 3
        with store.engine.connect() as conn:
            names = {i["name"] for i in inspect(conn).get_indexes("incident_events")}
        assert set(GUARDS) <= names
        again = pending("b", 1)._replace(event_id=first.event_id)
        with pytest.raises(StoreError, match="already recorded"), store.transaction() as tx:
            tx.append([again])
        with pytest.raises(ConcurrencyError), store.transaction() as tx:
            tx.append([pending("a", 2)])
        assert [e.event_id for e in store.read_events()][:1] == [first.event_id]
        assert store.head() == 2


def _bulk_append(store: EventStore, batches: list[list[dict[str, Any]]]) -> None:
    """Append checked envelopes in a bulk load, batch after batch, in one transaction."""
    with store.transaction() as tx, tx.bulk_load():
        for batch in batches:
            assert tx.append_envelopes(batch) is not None


def _spoiled(kind: str) -> tuple[list[list[dict[str, Any]]], str]:
    """Two batches of 6,000 with one duplicate; the message that names it."""
    envelopes = vessels(12_000)
    early, late = envelopes[100], envelopes[-1 if kind.endswith("earlier batch") else 200]
    if kind.startswith("id"):
        late["event_id"] = early["event_id"]
        message = f"event id {early['event_id']} would be recorded twice"
    else:
        late["aggregate_id"] = early["aggregate_id"]
        message = f"version 1 of stream {early['aggregate_id']} would be recorded twice"
    position = envelopes.index(late) + 1
    return [envelopes[:6000], envelopes[6000:]], f"^{message} \\(positions 101 and {position}\\)"


@pytest.mark.parametrize("kind", ["id, in its batch", "id, against an earlier batch",
                                  "version, in its batch", "version, against an earlier batch"])
def test_a_duplicate_fails_the_deferred_guard_and_leaves_the_file_as_it_was(
        store_file: tuple[Application, Path], kind: str) -> None:
    app, path = store_file
    before = (digest(path), indexes(path))
    batches, message = _spoiled(kind)
    with pytest.raises(StoreError, match=message):
        _bulk_append(app.store, batches)
    assert (digest(path), indexes(path)) == before
    assert integrity(path) == "ok" and app.store.head() == 0
    _bulk_append(app.store, [vessels(6000)])  # the store takes a good load after it
    assert app.store.head() == 6000


def test_an_old_store_keeps_its_constraints_through_a_large_import(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    Application.open(str(path), shipping_domain, create=True).close()
    make_old(path)
    before = indexes(path)
    assert ("sqlite_autoindex_incident_events_1", None) in before
    with Application.open(str(path), shipping_domain) as app:
        batches, _ = _spoiled("id, against an earlier batch")
        with pytest.raises(StoreError, match="already recorded"):  # refused at the insert
            _bulk_append(app.store, batches)
        assert indexes(path) == before and app.store.head() == 0
        good = vessels(12_000)
        assert run_to_end(import_lines(app, numbered(good), defer_indexes=10_000)) == 12_000
        assert indexes(path) == before and integrity(path) == "ok"
        with pytest.raises(StoreError, match="already"):
            run_to_end(import_lines(app, numbered(good[:1])))
        assert app.store.head() == 12_000


def test_a_large_import_into_an_empty_store_keeps_its_guards(
        store_file: tuple[Application, Path]) -> None:
    app, path = store_file
    fresh = indexes(path)
    good = vessels(12_000)
    assert run_to_end(import_lines(app, numbered(good), defer_indexes=10_000)) == 12_000
    assert indexes(path) == fresh and integrity(path) == "ok"
    again = pending(good[5]["aggregate_id"], 1)
    with pytest.raises(ConcurrencyError), app.store.transaction() as tx:
        tx.append([again])
    again = pending("IMO-new", 1)._replace(event_id=good[7]["event_id"])
    with pytest.raises(StoreError, match="already recorded"), app.store.transaction() as tx:
        tx.append([again])
    assert app.store.head() == 12_000


@pytest.mark.parametrize("kind", ["id", "version"])
def test_an_import_duplicating_an_event_of_its_file_or_the_store_imports_nothing(
        store_file: tuple[Application, Path], kind: str) -> None:
    app, path = store_file
    envelopes = vessels(12_000)
    spoiled = json.loads(json.dumps(envelopes))
    if kind == "id":
        spoiled[-1]["event_id"] = spoiled[3]["event_id"]
        within = f"event id {spoiled[3]['event_id']} already appears on line 4"
    else:
        spoiled[-1]["aggregate_id"] = spoiled[3]["aggregate_id"]
        within = f"stream {spoiled[3]['aggregate_id']} jumps from version 1 to 1"
    before = (digest(path), indexes(path))
    with pytest.raises(ImportFileError, match=f"^line 12000: {within}"):
        run_to_end(import_lines(app, numbered(spoiled), defer_indexes=10_000))
    assert (digest(path), indexes(path)) == before
    run_to_end(import_lines(app, numbered(envelopes[:1])))  # the store is not empty now
    before = (digest(path), indexes(path))
    late = vessels(12_000, first=2_000_000)
    if kind == "id":
        late[-1]["event_id"] = envelopes[0]["event_id"]
        against = "already in the store"
    else:
        late[-1]["aggregate_id"] = envelopes[0]["aggregate_id"]
        against = "is at version 1 in the store"
    with pytest.raises(StoreError, match=against):
        run_to_end(import_lines(app, numbered(late), defer_indexes=10_000))
    assert (digest(path), indexes(path)) == before and integrity(path) == "ok"


def test_a_cancelled_import_into_an_empty_store_puts_the_guards_back(
        store_file: tuple[Application, Path]) -> None:
    app, path = store_file
    before = (digest(path), indexes(path))
    operation = import_lines(app, numbered(vessels(12_000)), batch=5000, defer_indexes=10_000)
    next(operation)
    next(operation)  # one batch appended, every index dropped, the guards too
    operation.close()
    assert (digest(path), indexes(path)) == before
    assert integrity(path) == "ok" and app.store.head() == 0
