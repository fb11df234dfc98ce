"""A read that fails, is abandoned or outlives its store's close leaves nothing open.

A DBAPI cursor left mid-statement (its page failed to build on a damaged row, after the
driver had stepped past it) keeps SQLite's read transaction open after its connection went
back to the pool: the WAL cannot be checkpointed past it, and the store's close leaves the
connection alive (a "zombie": the files stay open in this process, the store cannot be
deleted). A caller that keeps the error keeps the cursor through its traceback. These tests
run with the cyclic collector off, keep every error, then: another writer commits, a
`wal_checkpoint(TRUNCATE)` is not busy and empties the WAL, the store closes with none of
its files open here, and it can be deleted."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from incident_core import Application, StoreError
from incident_core.collector import collector_paused
from incident_core.ports.sorting import SortKey
from incident_core.store.grouped_reads import schema_version_counts, streams_as_of, type_sample
from incident_core.store.open import remove_sqlite_files
from incident_core.store.snapshots import SnapshotShelf
from incident_core.store.sql.store import SqlEventStore
from tests import group_commit_domain as g
from tests.store_descriptors import open_files_of

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="reads this process's descriptors in /proc")

EVENTS = 150
DAMAGED = 61  # the position whose data is no JSON: mid-page, mid-stream



@pytest.fixture
def no_collector() -> Iterator[None]:
    with collector_paused():
        yield


def seeded(db: Path, *, damaged: bool) -> Application:
    app = Application.open(str(db), g.domain, create=True)
    for i in range(EVENTS):
        app.dispatch(g.Put(aggregate_id=f"b{i % 3}", n=1))
    if damaged:  # as a disk error or another program could leave it
        with contextlib.closing(sqlite3.connect(db)) as raw, raw:
            raw.execute("UPDATE incident_events SET data = '{broken' WHERE position = ?",
                        (DAMAGED,))
    return app


def checkpoint_fully(app: Application, db: Path) -> tuple[int, int, int]:
    """A writer commits, then checkpoints the whole WAL and truncates it."""
    app.dispatch(g.Put(aggregate_id="after", n=1))
    with contextlib.closing(sqlite3.connect(db, timeout=0.5)) as writer:
        busy, frames, done = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return int(busy), int(frames), int(done)


def assert_left_nothing(app: Application, db: Path) -> None:
    assert checkpoint_fully(app, db) == (0, 0, 0)
    assert Path(f"{db}-wal").stat().st_size == 0
    app.close()
    remove_sqlite_files(str(db))  # refused while any connection of ours is open on it
    assert open_files_of(db) == []
    assert not db.exists()


READS: dict[str, Callable[[Application], Any]] = {
    "iter_events": lambda app: [len(page) for page in app.store.iter_events(batch_size=64)],
    "read_events": lambda app: app.store.read_events(),
    "read_events_sorted": lambda app: app.store.read_events_sorted(SortKey("event_type")),
    "read_stream": lambda app: app.store.read_stream(f"b{(DAMAGED - 1) % 3}"),
    "row_history": lambda app: app.row_history("boxes", f"b{(DAMAGED - 1) % 3}"),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_a_read_failing_on_a_damaged_row_keeps_nothing_open(
        tmp_path: Path, no_collector: None, read: str) -> None:
    db = tmp_path / "s.sqlite3"
    app = seeded(db, damaged=True)
    kept: list[BaseException] = []
    for _ in range(3):  # the caller keeps each error, traceback and all
        with pytest.raises(ValueError) as failed:
            READS[read](app)
        kept.append(failed.value)
    assert_left_nothing(app, db)
    assert len(kept) == 3


def test_a_consumer_failing_mid_replay_keeps_nothing_open(tmp_path: Path,
                                                          no_collector: None) -> None:
    db = tmp_path / "s.sqlite3"
    app = seeded(db, damaged=False)
    pages = app.store.iter_events(batch_size=50)
    kept: list[BaseException] = []
    try:
        for page in pages:
            if page[-1].position >= 100:
                raise RuntimeError("the consumer gave up")
    except RuntimeError as exc:
        kept.append(exc)
    abandoned = app.store.iter_events(batch_size=50)  # never finished nor closed
    assert len(next(abandoned)) == 50
    assert_left_nothing(app, db)
    assert kept and pages is not None and abandoned is not None


def test_a_replay_resumed_after_close_refuses_and_opens_nothing(
        tmp_path: Path, no_collector: None) -> None:
    db = tmp_path / "s.sqlite3"
    app = seeded(db, damaged=False)
    pages = app.store.iter_events(batch_size=100)
    assert len(next(pages)) == 100
    app.close()
    with pytest.raises(StoreError, match="closed while it was being read"):
        next(pages)
    remove_sqlite_files(str(db))
    assert open_files_of(db) == []


def test_a_close_during_a_read_leaves_no_connection(tmp_path: Path,
                                                    no_collector: None) -> None:
    """The store is closed while a read holds a connection (here: from the read's own
    statement, as another thread of the program would): the read completes, and its
    connection is not kept by the pool the close disposed of."""
    db = tmp_path / "s.sqlite3"
    app = seeded(db, damaged=False)
    closed: list[bool] = []
    store = app.store
    assert isinstance(store, SqlEventStore)

    @event.listens_for(store.engine, "before_cursor_execute")
    def close_now(*_args: Any) -> None:
        if not closed:
            closed.append(True)
            app.close()

    assert len(app.store.read_events()) == EVENTS
    assert closed
    remove_sqlite_files(str(db))  # refused while the read's connection stays open
    assert open_files_of(db) == []
    assert not db.exists()


# The grouped reads and row snapshots read through the store's engine too: each, failing on
# a damaged row while rows after it wait, must leave nothing open either. (damage, read):
# the UPDATE is run on the seeded store, then the read must raise ValueError.
SIDE_READS: dict[str, tuple[str, Callable[[Application], Any]]] = {
    "type_sample": ("UPDATE incident_events SET data = '{broken' WHERE position = 61",
                    lambda app: type_sample(app.store, "Putted", 1, 1000)),
    # max(version) of stream b0 (the first group) is text: int() fails on it
    "streams_as_of": ("UPDATE incident_events SET version = 'x' WHERE position = 61",
                      lambda app: streams_as_of(app.store, 1000)),
    # the group ('A', 'x') comes first, ('Putted', 1) after it
    "schema_version_counts": (
        "UPDATE incident_events SET event_type = 'A', schema_version = 'x' WHERE position = 61",
        lambda app: schema_version_counts(app.store)),
    # the chain 10 (full), 20, 30 (deltas): the middle one's base is no number
    "snapshot_nearest": ("UPDATE incident_row_snapshots SET base = 'x' WHERE position = 20",
                         lambda app: SnapshotShelf(app.store).nearest("n", "s", 30, "k")),
}


def snapshot_chain(app: Application) -> None:
    shelf = SnapshotShelf(app.store)
    assert shelf.save("n", "s", 10, [{"k": "a", "v": 1}])
    assert shelf.save("n", "s", 20, [{"k": "a", "v": 2}], base=10, previous=10)
    assert shelf.save("n", "s", 30, [{"k": "a", "v": 3}], base=10, previous=20)
    assert shelf.nearest("n", "s", 30, "k") == (30, 10, {"a": {"k": "a", "v": 3}})


@pytest.mark.parametrize("read", sorted(SIDE_READS))
def test_a_grouped_or_snapshot_read_failing_mid_statement_keeps_nothing_open(
        tmp_path: Path, no_collector: None, read: str) -> None:
    db = tmp_path / "s.sqlite3"
    app = seeded(db, damaged=False)
    snapshot_chain(app)
    damage, call = SIDE_READS[read]
    with contextlib.closing(sqlite3.connect(db)) as raw, raw:
        raw.execute(damage)
    kept: list[BaseException] = []
    for _ in range(3):  # the caller keeps each error, traceback and all
        with pytest.raises(ValueError) as failed:
            call(app)
        kept.append(failed.value)
    assert_left_nothing(app, db)
    assert len(kept) == 3
