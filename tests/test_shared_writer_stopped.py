"""A follower whose shared writer is stopped (SIGSTOP: a debugger, a suspended job) waits for
it, and never reports as failed a command that could still be committed: the command was
handed over, and only the writer can tell its outcome. Continued, the writer answers; killed
while stopped, it lets go of its lock and socket, and the follower sends the command again
by its idempotency key (to itself, now the writer): recorded exactly once either way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application
from incident_core.process import Accepted
from tests import shared_writer_domain as s

pytestmark = pytest.mark.process

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
            os.kill(writer.pid, signal.SIGSTOP)
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
            assert follower.shared_writer.serving == (then == "killed")
            events = follower.store.read_stream("box")
            assert [e.data["n"] for e in events] == [1, 2]
            assert [e.event_id for e in result.events] == [events[1].event_id]
    finally:
        if writer.poll() is None:
            os.kill(writer.pid, signal.SIGCONT)
        writer.communicate(timeout=60)
