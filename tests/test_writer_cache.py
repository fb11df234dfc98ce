"""The single writer's memory of committed state (`store/sql/writer_cache.py`: rows, lineage
entries, lineage name ids, head and checkpoints) never makes a live result differ from a
replay: after dispatches interleaved with rejections, failing domain code, refused values,
group-commit batches, savepoints rolled back inside a batch, another connection and another
process writing the same file, and a reopen, every projection row, lineage history,
checkpoint and state equals what replaying the log into a fresh store gives."""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application, IncidentError
from incident_core.engine import committing
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations import verify
from incident_core.process import Accepted, Rejected
from incident_core.progress import run_to_end
from tests import group_commit_domain as g
from tests.sql_trace import traced

ROOT = Path(__file__).parent.parent
HUGE = 2**63 - 1  # a second one overflows the projection's 64-bit total: refused
BOXES = ["a", "b", "c", "d"]


def put(box: str, n: int) -> Any:
    return g.Put(aggregate_id=box, n=n)


def random_command(rng: random.Random) -> Any:
    """Mostly accepted; else rejected (negative), failing domain code (13: the projection
    raises) or refused (a total beyond 64 bits)."""
    kind = rng.choice(["good"] * 5 + ["rejected", "raises", "refused"])
    if kind == "refused":
        return put(rng.choice(BOXES), HUGE)
    return put(rng.choice(BOXES), {"good": rng.randint(1, 9), "rejected": -1, "raises": 13}[kind])


def dispatch(app: Application, command: Any) -> None:
    # refused or failing: nothing recorded, checked by the comparison at the end
    with contextlib.suppress(IncidentError):
        app.dispatch(command)


def several(app: Application, rng: random.Random, n: int) -> None:
    for _ in range(n):
        dispatch(app, random_command(rng))


def batch(app: Application, rng: random.Random) -> None:
    """Concurrent dispatches: group commit puts them in shared transactions."""
    commands = [random_command(rng) for _ in range(12)]
    threads = [threading.Thread(target=dispatch, args=(app, c)) for c in commands]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def other_process(db: str, n: int) -> None:
    """Another process dispatches `n` commands to the store at `db` (while this process
    has it open: the random test's "process" step). This process must keep its SQLite
    locks on the file meanwhile, or the other process, closing last as far as it can tell,
    deletes the WAL still in use here: no descriptor of a store file is closed while SQLite
    holds locks through another (`store/sql/open_files.py`), and a closed store leaves no
    SQLite connection alive (`SqlTransaction.end`, `test_store_close_files.py`)."""
    code = ("import sys\nfrom incident_core import Application\n"
            "from tests import group_commit_domain as g\n"
            "with Application.open(sys.argv[1], g.domain) as app:\n"
            "    for i in range(int(sys.argv[2])):\n"
            "        assert app.dispatch(g.Put(aggregate_id='abcd'[i % 4], n=1)).ok\n")
    done = subprocess.run([sys.executable, "-c", code, db, str(n)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def rolled_back_batch_mate(app: Application, box: str) -> None:
    """A batch whose first command is undone in its savepoint after its rows, lineage and
    events were written; the second is committed."""
    plans = []
    for n in (1000, 7):
        command = put(box, n)
        aggregate, key = app.decider.target(command)
        plan = committing.Plan(command, None, {}, aggregate, key)
        version, state = app.decider.load(aggregate, key, app.store)
        assert plan.decide(app.decider, version, state) is None
        plans.append(plan)
    with app.store.transaction() as tx:
        with pytest.raises(RuntimeError), tx.savepoint():
            committing.record_command(app.decider, app.listeners, plans[0], tx, True)
            raise RuntimeError("undone after writing")
        written = committing.record_command(app.decider, app.listeners, plans[1], tx, True)
    written.unit.publish()


def replayed(app: Application) -> Application:
    """A fresh memory store holding the same log, projected from it."""
    fresh = Application.open("memory:", app.domain, create=True)
    fresh.import_events([e.to_json() for e in app.store.read_events(limit=10**6)])
    return fresh


def assert_live_equals_replay(app: Application) -> None:
    fresh = replayed(app)
    try:
        store = app.store
        assert store.checkpoints() == fresh.store.checkpoints()
        assert set(store.checkpoints().values()) == {store.head()}
        for projection in app.domain.projections.values():
            rows = store.projection_rows(projection.spec)
            assert rows == fresh.store.projection_rows(projection.spec)
            for row in rows:
                key = row[projection.spec.key]
                assert app.row_history(projection.name, key) == \
                    fresh.row_history(projection.name, key), (projection.name, key)
        for stream in store.streams(limit=1000):
            live = app.state(stream.aggregate_id)
            again = fresh.state(stream.aggregate_id)
            assert live is not None and again is not None
            assert (live.version, live.state) == (again.version, again.state)
        assert run_to_end(verify(app)).ok
    finally:
        fresh.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_live_rows_lineage_checkpoints_and_states_equal_a_replay(tmp_path: Path,
                                                                  seed: int) -> None:
    rng = random.Random(seed)
    db = str(tmp_path / "cache.sqlite3")
    app = Application.open(db, g.domain, create=True)
    try:
        for box in BOXES:  # a total of 1 at least: HUGE is refused from now on
            assert app.dispatch(put(box, 1)).ok
        for _step in range(60):
            action = rng.choice(["one"] * 6 + ["batch", "undone", "other", "process",
                                               "reopen"])
            if action == "one":
                dispatch(app, random_command(rng))
            elif action == "batch":
                batch(app, rng)
            elif action == "undone":
                rolled_back_batch_mate(app, rng.choice(BOXES))
            elif action == "other":  # another connection of this process writes
                with Application.open(db, g.domain) as other:
                    dispatch(other, put(rng.choice(BOXES), rng.randint(1, 9)))
            elif action == "process":  # another process writes
                other_process(db, 5)
            else:
                app.close()
                app = Application.open(db, g.domain)
        dispatch(app, put("a", 1))
        assert_live_equals_replay(app)
    finally:
        app.close()


def test_a_savepoint_rolled_back_leaves_nothing_in_the_writer_memory(tmp_path: Path) -> None:
    with Application.open(str(tmp_path / "s.sqlite3"), g.domain, create=True) as app:
        assert app.dispatch(put("a", 1)).ok
        rolled_back_batch_mate(app, "a")  # 1000 undone, 7 committed
        assert isinstance(app.dispatch(put("a", 2)), Accepted)  # from the remembered row
        assert app.store.projection_rows(g.boxes.spec) == [{"aggregate_id": "a", "total": 10}]
        assert [e.after for e in app.row_history("boxes", "a")] == [
            {"aggregate_id": "a", "total": t} for t in (1, 8, 10)]
        assert_live_equals_replay(app)


def test_another_connection_writing_drops_the_memory(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    with Application.open(db, g.domain, create=True) as app, \
            Application.open(db, g.domain) as other:
        assert app.dispatch(put("a", 1)).ok  # remembered by app's writer
        assert other.dispatch(put("a", 2)).ok
        assert app.dispatch(put("a", 4)).ok  # not on the remembered row: on the stored one
        assert app.store.projection_rows(g.boxes.spec) == [{"aggregate_id": "a", "total": 7}]
        assert [e.before for e in app.row_history("boxes", "a")] == [
            None, {"aggregate_id": "a", "total": 1}, {"aggregate_id": "a", "total": 3}]
        assert_live_equals_replay(app)


def test_another_process_writing_drops_the_memory(tmp_path: Path) -> None:
    """(Also a step of the random test: here after remembered rows of every box.)"""
    db = str(tmp_path / "s.sqlite3")
    with Application.open(db, g.domain, create=True) as app:
        for box in BOXES:
            assert app.dispatch(put(box, 2)).ok  # remembered by app's writer
        other_process(db, 6)
        for box in BOXES:
            assert app.dispatch(put(box, 3)).ok  # on the stored rows, not the remembered
        assert sorted(r["total"] for r in app.store.projection_rows(g.boxes.spec)) == \
            [6, 6, 7, 7]
        assert_live_equals_replay(app)


def test_a_rejected_or_failing_command_changes_nothing_remembered(tmp_path: Path) -> None:
    with Application.open(str(tmp_path / "s.sqlite3"), g.domain, create=True) as app:
        assert app.dispatch(put("a", 5)).ok
        assert isinstance(app.dispatch(put("a", -1)), Rejected)
        with pytest.raises(IncidentError):
            app.dispatch(put("a", 13))  # the projection raises: rolled back
        assert app.dispatch(put("b", HUGE)).ok
        with pytest.raises(IncidentError):
            app.dispatch(put("b", HUGE))  # refused by the row check, after the append
        assert app.dispatch(put("a", 1)).ok
        assert app.dispatch(put("b", -HUGE + 1)) is not None
        assert_live_equals_replay(app)


def test_a_dispatch_reads_nothing_its_writer_wrote(tmp_path: Path) -> None:
    """With lineage on, a bank deposit runs 6 statements: BEGIN, the data_version check,
    the row, the event, the stream, COMMIT (schema 6: the checkpoints follow the head
    unwritten). Its lineage needs none: `bank_accounts` is keyed by the aggregate id, so
    the log itself is the index."""
    statements: list[str] = []
    tracing = [False]
    with traced(statements, tracing), \
            Application.open(str(tmp_path / "bank.sqlite3"), bank_domain, create=True) as app:
        assert app.dispatch(OpenAccount(aggregate_id="acc-1")).ok
        assert app.dispatch(DepositMoney(aggregate_id="acc-1", amount=5)).ok
        tracing[0] = True
        assert app.dispatch(DepositMoney(aggregate_id="acc-1", amount=7)).ok
        tracing[0] = False
        assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert [s.split()[0] for s in statements] == [
            "BEGIN", "PRAGMA", "INSERT", "INSERT", "INSERT", "COMMIT"], statements
        assert_live_equals_replay(app)


def test_group_commit_batches_with_failing_batch_mates_equal_a_replay(tmp_path: Path) -> None:
    """Batches whose commands are rejected, refused or fail inside their savepoints leave
    nothing of theirs in the writer's memory (these fail before writing a row; a command
    undone after writing its rows is `rolled_back_batch_mate`'s)."""
    with Application.open(str(tmp_path / "s.sqlite3"), g.domain, create=True) as app:
        threads = [threading.Thread(target=several, args=(app, random.Random(seed), 10))
                   for seed in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        grouped = app.group_commit
        assert grouped is not None and grouped.writes > grouped.batches  # batches formed
        assert_live_equals_replay(app)
