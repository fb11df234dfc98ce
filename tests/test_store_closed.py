"""Closed means closed: after `close()`, every read and write of the store port, on every
adapter (memory, a SQLite file, PostgreSQL), raises `StoreError` "the store is closed",
and nothing is opened again: a SQLite store's files are left as they were, with no
descriptor of them open in this process. So do the grouped reads and the row snapshots that
connect through a SQL store's engine, and a replay begun before the close."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from incident_core import EventStore, StoreError, open_store
from incident_core.ports.sorting import SortKey
from incident_core.ports.values import StoredSnapshot
from incident_core.store import grouped_reads
from incident_core.store.snapshots import SnapshotShelf
from incident_core.testing import SPEC, append, pending
from tests.store_descriptors import open_files_of

CLOSED = "the store is closed"


def _transaction(store: EventStore) -> None:
    with store.transaction() as tx:
        tx.append([pending("a", 4)])


# Every public method of the store port, called as a user would (`close` aside).
PORT_CALLS: dict[str, Callable[[EventStore], Any]] = {
    "transaction": _transaction,
    "meta": lambda s: s.meta(),
    "add_meta": lambda s: s.add_meta({"note": "after close"}),
    "head": lambda s: s.head(),
    "read_events": lambda s: s.read_events(),
    "iter_events": lambda s: list(s.iter_events()),
    "read_stream": lambda s: s.read_stream("a"),
    "read_stream_rows": lambda s: s.read_stream_rows("a"),
    "get_event": lambda s: s.get_event("00000000-0000-0000-0000-000000000000"),
    "events_with_metadata": lambda s: s.events_with_metadata("correlation_id", "corr"),
    "wait_for_change": lambda s: s.wait_for_change(0, 0.05),
    "event_count": lambda s: s.event_count(),
    "streams": lambda s: s.streams(),
    "stream_count": lambda s: s.stream_count(),
    "stream": lambda s: s.stream("a"),
    "aggregate_types": lambda s: s.aggregate_types(),
    "event_types": lambda s: s.event_types(),
    "event_histogram": lambda s: s.event_histogram(),
    "read_events_sorted": lambda s: s.read_events_sorted(SortKey("event_type")),
    "streams_sorted": lambda s: s.streams_sorted(SortKey("aggregate_id")),
    "projection_rows_sorted": lambda s: s.projection_rows_sorted(SPEC, SortKey("count")),
    "lineage_events": lambda s: s.lineage_events("things", "a"),
    "lineage_start": lambda s: s.lineage_start("things"),
    "projection_rows": lambda s: s.projection_rows(SPEC),
    "projection_row_count": lambda s: s.projection_row_count(SPEC),
    "checkpoints": lambda s: s.checkpoints(),
    "projection_signatures": lambda s: s.projection_signatures(),
    "parked_steps": lambda s: s.parked_steps(include_skipped=True),
    "saga_outcomes": lambda s: s.saga_outcomes(correlation_id="corr"),
    "latest_snapshot": lambda s: s.latest_snapshot("a", "Thing", "f"),
    "snapshot_versions": lambda s: s.snapshot_versions(["a"]),
}

# The reads of a store outside the port (time travel's grouped reads, row snapshots).
SIDE_CALLS: dict[str, Callable[[EventStore], Any]] = {
    "schema_version_counts": grouped_reads.schema_version_counts,
    "type_sample": lambda s: grouped_reads.type_sample(s, "Happened", 1, 10),
    "streams_as_of": lambda s: grouped_reads.streams_as_of(s, 3),
    "stream_count_as_of": lambda s: grouped_reads.stream_count_as_of(s, 3),
    "snapshot_positions": lambda s: SnapshotShelf(s).positions("things", "sig"),
    "snapshot_segment_at": lambda s: SnapshotShelf(s).segment_at("things", "sig", 3),
    "snapshot_nearest": lambda s: SnapshotShelf(s).nearest("things", "sig", 3,
                                                           "aggregate_id"),
    "snapshot_save": lambda s: SnapshotShelf(s).save("things", "sig", 3, []),
}


def test_every_public_method_of_the_port_is_called() -> None:
    public = {name for name, member in inspect.getmembers(EventStore, callable)
              if not name.startswith("_")}
    assert public - {"close", "interrupt"} == set(PORT_CALLS)


def seeded(target: str) -> EventStore:
    """A store with events, a projection row, a snapshot and a meta row, every read of
    which has something to find."""
    store = open_store(target, create=True)
    append(store, pending("a", 1), pending("a", 2), pending("b", 1))
    with store.transaction() as tx:
        tx.ensure_projection(SPEC)
        tx.put_row(SPEC, {"aggregate_id": "a", "count": 2, "label": None, "ratio": None,
                          "flag": None})
        tx.save_snapshot(StoredSnapshot("a", "Thing", 2, "f", '{"n": 2}', "2026-01-01"))
    return store


def refusals(store: EventStore, calls: dict[str, Callable[[EventStore], Any]]) -> dict[str, str]:
    """What each call did instead of raising "the store is closed" (nothing: it did)."""
    wrong: dict[str, str] = {}
    for name, call in calls.items():
        try:
            result = call(store)
        except StoreError as exc:
            if CLOSED not in str(exc):
                wrong[name] = f"StoreError {exc}"
        except Exception as exc:  # reported by name, with its type
            wrong[name] = f"{type(exc).__name__}: {exc}"
        else:
            wrong[name] = f"returned {result!r}"
    return wrong


def files_of(target: str) -> dict[str, tuple[int, int]]:
    """(size, modification time) of a SQLite store's files; nothing for another adapter."""
    if "://" in target or target == "memory:":
        return {}
    db = Path(target)
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns)
            for p in db.parent.glob(f"{db.name}*")}


def test_every_read_and_write_after_close_refuses_and_opens_nothing(
        store_target: str) -> None:
    store = seeded(store_target)
    assert store.head() == 3 and store.latest_snapshot("a", "Thing", "f") is not None
    store.close()
    before = files_of(store_target)
    assert refusals(store, PORT_CALLS | SIDE_CALLS) == {}
    assert refusals(store, PORT_CALLS) == {}  # and again: nothing reopened meanwhile
    assert files_of(store_target) == before
    if before:  # SQLite: no descriptor of the store's files open here
        assert open_files_of(Path(store_target)) == []
    store.close()  # a second close is harmless
    assert refusals(store, {"head": PORT_CALLS["head"]}) == {}
    # neither reads nor writes: stopping reads of a closed store finds none to stop (a
    # closing window may still ask), and opens nothing
    assert store.interrupt() == 0
    assert files_of(store_target) == before


def test_the_data_is_still_there_for_the_next_opening(store_target: str) -> None:
    if store_target == "memory:":
        pytest.skip("a memory store is its own data: closing it drops it")
    seeded(store_target).close()
    with open_store(store_target) as again:
        assert [(e.aggregate_id, e.version) for e in again.read_events()] == [
            ("a", 1), ("a", 2), ("b", 1)]


def test_a_replay_begun_before_close_refuses_its_next_page(store_target: str) -> None:
    store = seeded(store_target)
    pages: Iterator[list[Any]] = store.iter_events(batch_size=1)
    assert len(next(pages)) == 1
    store.close()
    with pytest.raises(StoreError, match="closed"):
        next(pages)


def test_a_transaction_under_way_at_close_is_refused(store_target: str) -> None:
    """Nothing is accepted that the closed store could not give back."""
    store = seeded(store_target)
    with pytest.raises(StoreError, match="closed"), store.transaction() as tx:
        tx.append([pending("c", 1)])
        store.close()
    if store_target != "memory:":
        with open_store(store_target) as again:
            assert again.stream("c") is None


def test_a_replayed_events_metadata_asked_after_close_refuses(store_target: str) -> None:
    """A SQL store's replayed events read their metadata from it when first asked for
    (`PageMetadata`): after the close that is a read like any other (a memory store's
    events hold theirs)."""
    store = seeded(store_target)
    page = next(store.iter_events())
    assert page[0].data == {"n": 1}
    store.close()
    before = files_of(store_target)
    if store_target == "memory:":
        assert page[0].metadata["correlation_id"] == "corr"
        return
    with pytest.raises(StoreError, match=CLOSED):
        page[0].metadata  # noqa: B018 - the property reads the store
    assert files_of(store_target) == before
