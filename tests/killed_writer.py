"""The kill -9 tests' writer process (`group_commit_worker.py`): started on a store, its
acknowledged commands read as it prints them, then killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WORKER = Path(__file__).with_name("group_commit_worker.py")


def acknowledged_then_killed(target: str, *, at_least: int,
                             seconds: float) -> list[tuple[str, int]]:
    """Run the worker on `target` until it acknowledged `at_least` commands (or `seconds`
    passed, or it ended), then kill -9 it: the (idempotency key, events recorded) of every
    command it acknowledged after its commit."""
    process = subprocess.Popen([sys.executable, str(WORKER), target], stdout=subprocess.PIPE,
                               text=True, cwd=Path(__file__).parent.parent)
    assert process.stdout is not None
    acked: list[tuple[str, int]] = []
    deadline = time.monotonic() + seconds
    while len(acked) < at_least and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        key, count = line.split()
        acked.append((key, int(count)))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return acked
