"""A follower whose shared writer is stopped (SIGSTOP: a debugger, a suspended job) waits for
it, and never reports as failed a command that could still be committed: the command was
handed over, and only the writer can tell its outcome. Continued, the writer answers; killed
while stopped, it lets go of its lock and socket, and the follower sends the command again
by its idempotency key (to itself, now the writer): recorded exactly once either way."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application
from incident_core.process import Accepted
from tests import shared_writer_domain as s

pytestmark = [pytest.mark.process,
              pytest.mark.skipif(not Path("/proc/self/task").is_dir(),
                                 reason="reads the writer's thread states in /proc")]

WORKER = Path(__file__).with_name("shared_writer_worker.py")
ROOT = Path(__file__).parent.parent
WAITED = 1.5  # seconds the follower is seen waiting on the stopped writer


def serving(db: Path) -> subprocess.Popen[str]:
    """A process serving `db` as its shared writer, until its stdin closes."""
    process = subprocess.Popen([sys.executable, str(WORKER), str(db), "0", "0", "same"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               cwd=ROOT)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready serving=1"
    return process


def stopped(pid: int) -> bool:
    """Whether every thread of the process is stopped (SIGSTOP takes effect a little after
    `kill` returns, each thread on its way back to user code)."""
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
    return bool(states) and all(state in "tT" for state in states)


def stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 30
    while not stopped(pid):
        assert time.monotonic() < deadline, "the writer did not stop"
        time.sleep(0.01)


def dispatching(app: Application, command: s.Put, key: str | None,
                results: list[Any]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(app.dispatch(command, idempotency_key=key))
        except BaseException as exc:  # reported to the test, never swallowed
            results.append(exc)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("key", ["k-1", None])
@pytest.mark.parametrize("then", ["continued", "killed"])
def test_a_stopped_writer_blocks_and_the_command_is_recorded_once(
        tmp_path: Path, then: str, key: str | None) -> None:
    db = tmp_path / "s.sqlite3"
    Application.open(str(db), s.domain, create=True).close()
    writer = serving(db)
    try:
        with Application.open(str(db), s.domain, shared_writer=True) as follower:
            assert follower.shared_writer is not None and not follower.shared_writer.serving
            assert follower.dispatch(s.Put(aggregate_id="box", n=1)).ok  # connected
            stop(writer.pid)
            results: list[Any] = []
            thread = dispatching(follower, s.Put(aggregate_id="box", n=2), key, results)
            thread.join(WAITED)
            assert thread.is_alive() and results == []  # waiting: neither done nor failed
            if then == "killed":
                os.kill(writer.pid, signal.SIGKILL)
            os.kill(writer.pid, signal.SIGCONT)
            thread.join(60)
            assert not thread.is_alive()
            (result,) = results
            assert isinstance(result, Accepted) and not result.replayed
            if then == "continued":  # it still serves (killed: the follower serves now,
                assert not follower.shared_writer.serving  # or wrote directly, if the
                # dying writer had not let go of its lock yet: either way, once)
            events = follower.store.read_stream("box")
            assert [e.data["n"] for e in events] == [1, 2]
            assert [e.event_id for e in result.events] == [events[1].event_id]
    finally:
        if writer.poll() is None:
            os.kill(writer.pid, signal.SIGCONT)
        writer.communicate(timeout=60)
