"""The shared writer's files beside a store (`<store>.writer.lock`, `<store>.writer.sock`)
go with it: deleting a store (`remove_sqlite_files`) removes them too, after a clean close
and after a writer killed with -9 (its socket file left behind), and refuses, deleting
nothing, while a writer process serves the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from incident_core import Application
from incident_core.errors import StoreError
from incident_core.store.open import remove_sqlite_files
from tests import shared_writer_domain as s

pytestmark = pytest.mark.process

WORKER = Path(__file__).with_name("shared_writer_worker.py")
ROOT = Path(__file__).parent.parent


def serving(db: Path) -> subprocess.Popen[str]:
    """A process serving `db` as its shared writer, until its stdin closes."""
    process = subprocess.Popen([sys.executable, str(WORKER), str(db), "0", "1", "same"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               cwd=ROOT)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready serving=1"
    return process


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_closed_shared_writer_store_is_deleted_with_its_lock(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    with Application.open(str(db), s.domain, create=True, shared_writer=True) as app:
        assert app.shared_writer is not None and app.shared_writer.serving
        assert app.dispatch(s.Put(aggregate_id="box", n=1)).ok
    assert "s.sqlite3.writer.lock" in names(tmp_path)  # it outlives the close
    remove_sqlite_files(str(db))
    assert names(tmp_path) == []


def test_a_killed_writers_socket_and_lock_are_deleted(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    Application.open(str(db), s.domain, create=True).close()
    writer = serving(db)
    try:
        assert "s.sqlite3.writer.sock" in names(tmp_path)
        with pytest.raises(StoreError, match="nothing was deleted"):
            remove_sqlite_files(str(db))  # it serves: the store is open there
        assert {"s.sqlite3", "s.sqlite3.writer.lock", "s.sqlite3.writer.sock"} <= set(
            names(tmp_path))
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.communicate(timeout=60)
    assert "s.sqlite3.writer.sock" in names(tmp_path)  # left by the kill
    remove_sqlite_files(str(db))
    assert names(tmp_path) == []


def test_a_store_behind_a_symlink_loses_the_lock_beside_its_real_file(tmp_path: Path) -> None:
    real = tmp_path / "data" / "s.sqlite3"
    real.parent.mkdir()
    link = tmp_path / "link.sqlite3"
    Application.open(str(real), s.domain, create=True).close()
    link.symlink_to(real)
    with Application.open(str(link), s.domain, create=True, shared_writer=True) as app:
        assert app.dispatch(s.Put(aggregate_id="box", n=1)).ok
    assert "s.sqlite3.writer.lock" in names(real.parent)
    remove_sqlite_files(str(link))  # the link goes (as before), and the writer's lock
    assert "s.sqlite3.writer.lock" not in names(real.parent)
