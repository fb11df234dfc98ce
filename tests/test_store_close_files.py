"""`close()` leaves nothing of a SQLite store open in this process, whatever its commands did.

SQLite keeps a connection that still has a prepared statement alive past its close (a
"zombie": its descriptors stay open, so the store's files cannot be deleted or moved, and
its memory stays). A cursor whose statement failed (a version conflict's insert) keeps it
prepared until the cursor is closed, so a transaction's cursor kept alive by anything (an
error's traceback holding the transaction, in a reference cycle or kept by the caller)
made one. These tests run with the cyclic collector
off, so that anything a cycle keeps stays, and never collect: after dispatches whose
batch-mates are rejected, refused or fail (threads: group-commit batches, savepoints rolled
back), `app.close()` leaves no descriptor of the store's files open, no write transaction
or group-commit ticket alive, and the store can be deleted."""

from __future__ import annotations

import contextlib
import gc
import json
import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application, ConcurrencyError, IncidentError
from incident_core.collector import collector_paused
from incident_core.envelope import PendingEvent, format_time, utc_now
from incident_core.store.open import remove_sqlite_files
from incident_core.store.sql.open_files import held_here
from tests import group_commit_domain as g
from tests.store_descriptors import open_files_of

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="reads this process's descriptors in /proc")

HUGE = 2**63 - 1  # a total beyond it is refused by the projection's 64-bit column



def alive(*names: str, besides: frozenset[int] = frozenset()) -> list[str]:
    """Objects of these class names still alive (nothing collected first), but for those
    whose ids are in `besides` (what earlier tests of the process left alive)."""
    return sorted(type(o).__name__ for o in gc.get_objects()
                  if type(o).__name__ in names and id(o) not in besides)


def alive_ids(*names: str) -> frozenset[int]:
    return frozenset(id(o) for o in gc.get_objects() if type(o).__name__ in names)


@pytest.fixture
def no_collector() -> Iterator[None]:
    """The cyclic collector off: what a reference cycle keeps stays kept (what earlier
    tests left in cycles is collected first)."""
    gc.collect()
    with collector_paused():
        yield


def command(rng: random.Random) -> Any:
    """Mostly accepted; else rejected (negative), failing in the projection (13) or refused
    (a total beyond 64 bits)."""
    n = rng.choice([rng.randint(1, 9)] * 4 + [-1, 13, HUGE])
    return g.Put(aggregate_id=rng.choice("abc"), n=n)


def dispatches(app: Application, seed: int, count: int) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        with contextlib.suppress(IncidentError):  # rejected, refused or failing
            app.dispatch(command(rng))


def run(app: Application, threads: int, each: int) -> None:
    """Concurrent dispatches, then the reads a user makes between them."""
    workers = [threading.Thread(target=dispatches, args=(app, seed, each))
               for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for box in "abc":
        app.state(box)
        app.row_history("boxes", box)
    app.store.projection_rows(g.boxes.spec)
    app.store.read_events(limit=100)


def test_close_leaves_no_file_open_after_failing_batch_mates(tmp_path: Path,
                                                             no_collector: None) -> None:
    db = tmp_path / "s.sqlite3"
    app = Application.open(str(db), g.domain, create=True)
    for _reopen in range(3):
        run(app, threads=12, each=8)
        grouped = app.group_commit
        assert grouped is not None and grouped.writes > grouped.batches  # batches formed
        app.close()
        assert open_files_of(db) == []
        assert not held_here(db)
        app = Application.open(str(db), g.domain)
    app.close()
    assert open_files_of(db) == []
    remove_sqlite_files(str(db))  # nothing open here: it goes, companions too
    assert list(tmp_path.iterdir()) == []


def test_no_transaction_outlives_its_dispatch(tmp_path: Path, no_collector: None) -> None:
    """Errors handed to their callers keep no write transaction (nor its cursor and
    connection) or group-commit ticket alive once the callers dropped them."""
    names = ("SqlStoreTransaction", "_Ticket", "Cursor")
    before = alive_ids(*names)  # e.g. a PostgreSQL store another test left open
    with Application.open(str(tmp_path / "s.sqlite3"), g.domain, create=True) as app:
        run(app, threads=12, each=8)
        assert alive(*names, besides=before) == []


def pending(aggregate_id: str, version: int) -> PendingEvent:
    return PendingEvent(str(uuid.uuid4()), aggregate_id, "Box", "Putted", version,
                        format_time(utc_now()), json.dumps({"n": 1}),
                        '{"correlation_id":"c","causation_id":"c"}', 1, "c", "c")


@pytest.mark.parametrize("in_savepoint", [False, True])
def test_a_kept_conflict_holds_no_file_open(tmp_path: Path, in_savepoint: bool) -> None:
    """A version conflict (its driver error raised by the cursor's insert, which keeps that
    statement prepared) kept by the caller after the store closed: its traceback holds the
    transaction and the cursor, which was closed when the transaction ended."""
    db = tmp_path / "s.sqlite3"
    app = Application.open(str(db), g.domain, create=True)
    with app.store.transaction() as tx:
        tx.append([pending("a", 1)])
    kept: list[ConcurrencyError] = []
    with contextlib.suppress(ConcurrencyError), app.store.transaction() as tx:
        try:
            if in_savepoint:  # a batch-mate's: undone alone, the transaction commits
                with tx.savepoint():
                    tx.append([pending("a", 1)])
            else:
                tx.append([pending("a", 1)])
                tx.flush()
        except ConcurrencyError as exc:
            kept.append(exc)
            if not in_savepoint:
                raise
    app.close()
    assert len(kept) == 1
    assert open_files_of(db) == []
    remove_sqlite_files(str(db))
