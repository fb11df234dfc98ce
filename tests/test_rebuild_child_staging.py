"""A rebuild child killed (kill -9) after it staged part of a projection's lineage index:
what it staged is left under the staging name (no read uses it: the rows, checkpoints and
lineage are as they were), and the next rebuild of the projection clears it first, so its
lineage is exactly that of a rebuild that was never interrupted (real SQLite files, a real
child process, `tests.staged_child_domain`)."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from incident_core import Application
from incident_core.engine.binding import open_application
from incident_core.engine.lineage import STAGING
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.demo import demo
from incident_core.operations.rebuild import rebuild
from incident_core.progress import run_to_end
from tests.staged_child_domain import bank_twin
from tests.test_rebuild_child import BANK, dump, start

DOMAIN = "tests.staged_child_domain:domain"
NAME = "slow_sources"


def staged(path: Path) -> int:
    """The index entries filed under the projection's staging name."""
    with sqlite3.connect(path) as db:
        found = db.execute(
            "SELECT count(*) FROM incident_lineage_index i JOIN incident_lineage_names n"
            " ON n.id = i.projection WHERE n.name = ?", (NAME + STAGING,)).fetchone()
    return int(found[0])


def index_of(path: Path) -> list[tuple[str, int]]:
    """The projection's own lineage index entries (row key, position), in order."""
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT i.row_key, i.position FROM incident_lineage_index i JOIN"
            " incident_lineage_names n ON n.id = i.projection WHERE n.name = ?"
            " ORDER BY i.row_key, i.position", (NAME,)).fetchall()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A bank store with a few hundred transfer requests, `slow_sources` rebuilt once."""
    path = tmp_path / "bank.sqlite3"
    with open_application(str(path), bank_domain, module=BANK, create=True).app as app:
        run_to_end(demo(app, accounts=20, transfers=600, seed=5))
    with Application.open(str(path), bank_twin()) as app:
        run_to_end(rebuild(app, [NAME]))
    return path


def test_a_killed_childs_staged_lineage_is_cleared_by_the_next_rebuild(
        store: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean.sqlite3"
    clean.write_bytes(store.read_bytes())
    expected = index_of(store)
    assert expected  # the custom-key projection has an index worth staging
    before = [line for line in dump(store) if "incident_lineage" not in line]

    child = start(str(store), DOMAIN, [NAME], list(sys.path))
    deadline = time.monotonic() + 60
    while staged(store) == 0:  # the child flushed some staged entries: kill it now
        assert child.poll() is None, "the child ended before staging any lineage"
        assert time.monotonic() < deadline, "the child staged nothing within a minute"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL

    left = staged(store)
    assert left > 0  # what a kill leaves: staged entries no read uses
    assert [line for line in dump(store) if "incident_lineage" not in line] == before
    assert index_of(store) == expected
    with Application.open(str(store), bank_twin()) as app:
        run_to_end(rebuild(app, [NAME]))
    with Application.open(str(clean), bank_twin()) as app:
        run_to_end(rebuild(app, [NAME]))
    assert staged(store) == 0
    assert index_of(store) == index_of(clean) == expected
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
