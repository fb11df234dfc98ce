"""Replay pages (`iter_events`) read schema 3 and 4 rows without their metadata and read it
per page when first asked: the events must equal what the eager reads give, on SQLite and
PostgreSQL, for every form the metadata is stored in (ids lifted or not, chains broken, ids
kept in the JSON, schema 4's command type lifted or not), and whichever event of a page is
asked first."""

from __future__ import annotations

import gc
import random
from typing import Any

import pytest
from sqlalchemy import event, inspect, text

from incident_core import Application, RecordedEvent, open_store
from incident_core.examples.bank import domain
from incident_core.operations.demo import demo
from incident_core.progress import run_to_end
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.store import SqlEventStore
from tests.schema_downgrade import downgrade_to_3

ODD_METADATA: list[dict[str, Any]] = [
    {},
    {"correlation_id": "r", "causation_id": "e0", "command_id": "c", "user": "u"},
    {"causation_id": "c", "user": None},
    {"command_id": 7, "causation_id": "", "correlation_id": "r"},
    {"user": "u", "command_type": "Imported"},  # the last key: lifted in schema 4
    {"command_type": "Imported", "user": "u"},  # not the last key: kept in the JSON
    {"correlation_id": "r", "command_type": ""},  # not a non-empty string: kept
]


def envelope(n: int, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": f"odd-{n}", "aggregate_id": f"odd-{n}", "aggregate_type": "Account",
            "event_type": "AccountOpened", "version": 1,
            "recorded_at": "2026-01-01T00:00:00.000000+00:00", "schema_version": 1,
            "data": {"account_number": f"odd-{n}"}, "metadata": metadata}


def seeded(target: str) -> Application:
    app = Application.open(target, domain, create=True)
    run_to_end(demo(app, accounts=12, transfers=80, seed=5))
    app.import_events([envelope(n, m) for n, m in enumerate(ODD_METADATA)])
    return app


def described(event: RecordedEvent) -> tuple[Any, ...]:
    return (event.to_json(), event.metadata_json, event.correlation_id, event.causation_id)


def made(schema: int) -> int:
    """The schema a store of `schema` 4's event rows has (5 changed only row lineage)."""
    return SCHEMA_VERSION if schema == 4 else schema


@pytest.mark.parametrize("schema", [4, 3])
@pytest.mark.parametrize("batch", [7, 5000])
def test_replayed_pages_equal_the_eager_reads(shared_target: str, batch: int,
                                              schema: int) -> None:
    with seeded(shared_target) as app:
        if schema == 3:
            assert isinstance(app.store, SqlEventStore)
            downgrade_to_3(app.store)
    with open_store(shared_target, read_only=True) as store:  # schema 3: read as it is
        assert store.schema_version == made(schema)  # type: ignore[attr-defined]
        eager = store.read_events()
        pages = list(store.iter_events(batch_size=batch))
        replayed = [event for page in pages for event in page]
        assert [e.position for e in replayed] == [e.position for e in eager]
        order = list(range(len(replayed)))
        random.Random(3).shuffle(order)  # any event of a page may be the first one asked
        for index in order:
            assert described(replayed[index]) == described(eager[index])
        odd = [e.metadata for e in replayed if e.event_id.startswith("odd-")]
        assert odd == ODD_METADATA
        assert lifted_types(store) == ({"odd-4": "Imported"} if schema == 4 else {})


def lifted_types(store: Any) -> dict[str, str]:
    """The odd events' command types stored in schema 4's column."""
    with store.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("incident_events")}
        if "command_type" not in columns:
            return {}
        return dict(conn.execute(text(
            "SELECT event_id, command_type FROM incident_events "
            "WHERE event_id LIKE 'odd-%' AND command_type IS NOT NULL")).all())


@pytest.mark.parametrize("schema", [4, 3])
def test_a_replayed_page_reads_its_metadata_once(tmp_path: Any, schema: int) -> None:
    target = str(tmp_path / "store.sqlite3")
    with seeded(target) as app:
        if schema == 3:
            assert isinstance(app.store, SqlEventStore)
            downgrade_to_3(app.store)
    with open_store(target, read_only=True) as store:
        assert store.schema_version == made(schema)  # type: ignore[attr-defined]
        [page, *_] = list(store.iter_events(batch_size=50))
        statements: list[str] = []

        def traced(dbapi_connection: Any, *_: Any) -> None:
            dbapi_connection.set_trace_callback(statements.append)

        engine = store.engine  # type: ignore[attr-defined]
        event.listen(engine, "checkout", traced)
        try:
            metadata = [recorded.metadata for recorded in page]
        finally:
            event.remove(engine, "checkout", traced)
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1 and "incident_events" in selects[0]
        assert len([m for m in metadata if m.get("command_type")]) == 50


def young(objects: list[Any]) -> int:
    """How many of `objects` are in the collector's young generations."""
    ids = {id(o) for o in objects}
    return sum(id(o) in ids for g in (0, 1) for o in gc.get_objects(generation=g))


def test_replayed_pages_skip_the_young_collections(tmp_path: Any) -> None:
    """A replayed page's events (kept by the caller) are moved to the oldest generation
    as the page is built, none left for a young collection to scan; the collector is left
    on, and what nothing froze stays unfrozen."""
    app = seeded(str(tmp_path / "s.sqlite3"))
    gc.collect()
    assert gc.get_freeze_count() == 0
    kept = [e for page in app.store.iter_events(batch_size=50) for e in page]
    assert len(kept) == app.store.head() and young(kept) == 0
    assert gc.isenabled() and gc.get_freeze_count() == 0
    app.close()


def test_a_replay_leaves_what_its_program_froze_frozen(tmp_path: Any) -> None:
    """The inspector freezes what it keeps for good (`gc.freeze()`): a replay must not
    thaw it (its pages are then collected as usual)."""
    app = seeded(str(tmp_path / "s.sqlite3"))
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        kept = [e for page in app.store.iter_events(batch_size=50) for e in page]
        assert len(kept) == app.store.head()
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()
    app.close()
