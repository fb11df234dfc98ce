"""Group commit: concurrent dispatches share durable commits, and a command that is rejected,
refused or raises inside the shared transaction never disturbs its batch-mates; a process
killed mid-batch loses no acknowledged command."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from incident_core import Application, IncidentError
from incident_core.operations import verify
from incident_core.process import Accepted, Rejected
from incident_core.progress import run_to_end
from tests import group_commit_domain as g
from tests.killed_writer import acknowledged_then_killed

THREADS = 8
PER_THREAD = 30
HUGE = 2**63 - 1  # a second one overflows the projection's 64-bit total: refused in the batch


def command_for(thread: int, i: int, rng: random.Random) -> tuple[str, g.Put]:
    """(what should happen, the command): each thread's own box plus two shared ones."""
    target = rng.choice([f"box-{thread}", "shared-a", "shared-b"])  # shared: hot
    kind = rng.choice(["good"] * 6 + ["rejected", "raises", "refused"])
    n = {"good": rng.randint(1, 9), "rejected": -1, "raises": 13, "refused": HUGE}[kind]
    if kind == "refused":
        target = f"huge-{thread}-{i}"  # its first HUGE is fine, the second overflows
    return kind, g.Put(aggregate_id=target, n=n)


def hammer(app: Application, thread: int, results: list[tuple[str, str, Any]]) -> None:
    rng = random.Random(thread)
    for i in range(PER_THREAD):
        kind, command = command_for(thread, i, rng)
        commands = [command, command] if kind == "refused" else [command]
        for j, cmd in enumerate(commands):
            key = f"t{thread}-{i}-{j}"
            try:
                outcome: Any = app.dispatch(cmd, idempotency_key=key)
            except IncidentError as exc:
                outcome = exc
            results.append((kind if j == len(commands) - 1 else "good", key, outcome))


def hammered(app: Application) -> list[tuple[str, str, Any]]:
    """`hammer` on `THREADS` threads at once: (what should have happened, key, outcome) of
    every command."""
    results: list[tuple[str, str, Any]] = []
    threads = [threading.Thread(target=hammer, args=(app, n, results)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_batch_mates_of_rejected_refused_and_raising_commands_are_committed(
        shared_target: str) -> None:
    app = Application.open(shared_target, g.domain, create=True)
    try:
        results = hammered(app)
        grouped = app.group_commit
        assert grouped is not None and grouped.writes > grouped.batches  # grouped
        accepted = 0
        for kind, key, outcome in results:
            recorded = app.store.events_with_metadata("causation_id", key)
            if kind == "good":  # batch-mates on one box: decided again, never a conflict
                assert isinstance(outcome, Accepted), (key, outcome)
                assert [e.event_id for e in recorded] == [e.event_id for e in outcome.events]
                accepted += len(recorded)
            else:  # rejected, refused or raising: nothing recorded
                assert recorded == []
                assert isinstance(outcome, Rejected if kind == "rejected" else IncidentError)
        assert app.store.head() == accepted
        assert run_to_end(verify(app)).ok
        for stream in app.store.streams(limit=1000):  # snapshots taken in batches agree too
            state = app.state(stream.aggregate_id)
            assert state is not None
            events = app.store.read_stream(stream.aggregate_id)
            assert state.state == g.box.fold(g.domain.decode(e.event_type, e.data)
                                             for e in events)
    finally:
        app.close()


def test_a_lone_writer_commits_alone(shared_target: str) -> None:
    with Application.open(shared_target, g.domain, create=True) as app:
        for n in range(5):
            assert app.dispatch(g.Put(aggregate_id="solo", n=n)).ok
        assert app.group_commit is not None and (app.group_commit.batches,
                                                app.group_commit.writes) == (5, 5)


def test_kill_9_mid_batch_loses_no_acknowledged_command(tmp_path: Path) -> None:
    db = tmp_path / "kill.sqlite3"
    Application.open(str(db), g.domain, create=True).close()
    acked = acknowledged_then_killed(str(db), at_least=150, seconds=60)
    assert len(acked) >= 150
    with Application.open(str(db), g.domain) as app:
        for key, count in acked:
            assert len(app.store.events_with_metadata("causation_id", key)) == count
        assert run_to_end(verify(app)).ok
    done = subprocess.run([sys.executable, "-m", "incident_core.cli", "verify", "--db", str(db),
                           "--domain", "tests.group_commit_domain:domain", "--domain-path",
                           str(Path(__file__).parent.parent)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


def held_then_joined(app: Application, held: g.Put) -> dict[str, Any]:
    """`held` dispatched alone and held in its transaction while three commands queue (one
    raises in its projection), then let go: every outcome, by box."""
    grouped = app.group_commit
    assert grouped is not None
    outcomes: dict[str, Any] = {}

    def run(command: g.Put) -> None:
        try:
            outcomes[command.aggregate_id] = app.dispatch(command)
        except IncidentError as exc:
            outcomes[command.aggregate_id] = exc

    g.GATE.clear()
    g.HELD.clear()
    threads = [threading.Thread(target=run, args=(held,))]
    threads[0].start()
    assert g.HELD.wait(30)  # the writer is busy: what follows queues
    for n, box in ((5, "joined-a"), (13, "joined-raises"), (7, "joined-c")):
        threads.append(threading.Thread(target=run, args=(g.Put(aggregate_id=box, n=n),)))
        threads[-1].start()
    deadline = time.monotonic() + 30
    while len(grouped._queue) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    g.GATE.set()
    for thread in threads:
        thread.join()
    return outcomes


def test_commands_queued_behind_a_lone_writer_join_its_commit(shared_target: str) -> None:
    with Application.open(shared_target, g.domain, create=True) as app:
        grouped = app.group_commit
        assert grouped is not None
        outcomes = held_then_joined(app, g.Put(aggregate_id="held", n=1))
        assert (grouped.batches, grouped.writes) == (1, 3)  # one commit; one raised alone
        assert isinstance(outcomes["joined-raises"], IncidentError)
        for box in ("held", "joined-a", "joined-c"):
            assert isinstance(outcomes[box], Accepted), outcomes[box]
            assert [e.event_id for e in app.store.read_stream(box)] == \
                [e.event_id for e in outcomes[box].events]
        assert app.store.read_stream("joined-raises") == []
        assert run_to_end(verify(app)).ok


def test_a_lone_writer_conflicting_at_its_write_fails_alone(shared_target: str) -> None:
    """The lone command was decided on a cached state that another process has moved on:
    its insert conflicts when it is sent (on PostgreSQL after the others queued), and the
    conflict is its own (it is decided again and retried); the others commit after it."""
    with Application.open(shared_target, g.domain, create=True) as app, \
            Application.open(shared_target, g.domain) as other:
        g.GATE.set()
        assert app.dispatch(g.Put(aggregate_id="held-z", n=1)).ok  # cached: version 1
        assert other.dispatch(g.Put(aggregate_id="held-z", n=1)).ok  # version 2
        outcomes = held_then_joined(app, g.Put(aggregate_id="held-z", n=2))
        assert isinstance(outcomes["joined-raises"], IncidentError)
        for box in ("held-z", "joined-a", "joined-c"):
            assert isinstance(outcomes[box], Accepted), outcomes[box]
            assert outcomes[box].events[0].event_id in \
                {e.event_id for e in app.store.read_stream(box)}
        assert [e.version for e in app.store.read_stream("held-z")] == [1, 2, 3]
        assert app.store.head() == 5
        assert run_to_end(verify(app)).ok
