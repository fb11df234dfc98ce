"""SIGKILL in the middle of seeding never leaves a broken store.

`incident demo` writes batch by batch, each batch one transaction (events, streams,
projection rows, saga checkpoints together). Killed at any moment, the store must still pass
`incident verify`; the next write finishes every transfer saga the kill interrupted.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROUNDS = 5
UNFINISHED = ("requested", "initiated", "reverted")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "incident_core.cli", *args]


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("INCIDENT_")}


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cli(*args, "--db", str(db)), capture_output=True, text=True,
                          timeout=120, env=env())
    assert "Traceback" not in done.stderr, done.stderr
    return done


def query(db: Path, sql: str) -> int:
    """A plain read-only look at the file, as any other reader would take."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def head(db: Path) -> int:
    return query(db, "SELECT coalesce(max(position), 0) FROM incident_events")


def unfinished_transfers(db: Path) -> int:
    marks = ", ".join(f"'{s}'" for s in UNFINISHED)
    return query(db, f"SELECT count(*) FROM transfers WHERE status IN ({marks})")


def wait_for_writes(db: Path, after: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while head(db) <= after:
        assert process.poll() is None, "the demo ended before it was killed"
        assert time.monotonic() < deadline, "the demo never started writing"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_during_demo_leaves_a_store_that_verifies(tmp_path: Path) -> None:
    db = tmp_path / "killed.sqlite3"
    assert run(db, "init").returncode == 0
    rng = random.Random(20240501)
    interrupted = []
    for round_ in range(ROUNDS):
        before = head(db)
        demo = subprocess.Popen(cli("demo", "--accounts", "40", "--transfers", "200000",
                                    "--seed", str(round_), "--db", str(db)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env=env())
        try:
            wait_for_writes(db, before, demo)
            time.sleep(rng.uniform(0.2, 1.5))
        finally:
            demo.send_signal(signal.SIGKILL)
            demo.communicate(timeout=30)
        assert demo.returncode == -signal.SIGKILL
        assert head(db) > before

        checked = run(db, "verify")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        interrupted.append(unfinished_transfers(db))

        opened = run(db, "dispatch", "OpenAccount", "--data",
                     json.dumps({"aggregate_id": f"after-kill-{round_}"}))
        assert opened.returncode == 0, opened.stderr
        assert unfinished_transfers(db) == 0
        again = run(db, "verify")
        assert again.returncode == 0, again.stdout + again.stderr
    # The kills did land inside sagas (otherwise this test would prove little).
    assert any(interrupted), interrupted
