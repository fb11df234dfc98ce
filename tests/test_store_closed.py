"""Closed means closed: after `close()`, every read and write of the store port, on every
adapter (memory, a SQLite file, PostgreSQL), raises `StoreError` "the store is closed"
(the port's own checks are in the contract suite, `incident_core.testing.ClosedContract`),
and nothing is opened again: a SQLite store's files are left as they were, with no
descriptor of them open in this process. So do the grouped reads and the row snapshots that
connect through a SQL store's engine, and a replay begun before the close."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from incident_core import EventStore, StoreError, open_store
from incident_core.store import grouped_reads
from incident_core.store.snapshots import SnapshotShelf
from incident_core.testing import pending
from incident_core.testing.closed_contract import CLOSED, PORT_CALLS, refusals, seed
from tests.store_descriptors import open_files_of

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


def seeded(target: str) -> EventStore:
    """A store with events, a projection row, a snapshot and a meta row, every read of
    which has something to find."""
    return seed(open_store(target, create=True))


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
