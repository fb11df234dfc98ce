"""No code of ours drops this process's SQLite locks on a store it has open.

POSIX locks belong to the (process, file) pair: closing any descriptor of a store file
releases every lock SQLite holds on it in this process. Another process then closes "last"
and deletes the WAL still in use here, and the next acknowledged commit lives in a deleted
file. Each path that used to open and close a store file (a second store on the same file,
the header checks, a refused delete, the CLI's quick read and verify run in-process) runs in
a holder process (tests/lock_holder.py) between two of its dispatches, with a real other
process writing and closing in between.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from incident_core import Application, StoreError
from incident_core.examples.bank import DepositMoney, OpenAccount, domain
from incident_core.store.open import remove_sqlite_files
from incident_core.store.sql.open_files import held_here, read_head

HOLDER = str(Path(__file__).with_name("lock_holder.py"))
OTHER = ("import sys\nfrom incident_core import Application\n"
         "from incident_core.examples.bank import DepositMoney, domain\n"
         "with Application.open(sys.argv[1], domain) as o:\n"
         "    assert o.dispatch(DepositMoney(aggregate_id='a', amount=1)).ok\n")
FRESH = ("import sys\nfrom incident_core import Application\n"
         "from incident_core.examples.bank import domain\n"
         "with Application.open(sys.argv[1], domain, read_only=True) as o:\n"
         "    print(o.store.head(), o.state('a').state.balance)\n")


def python(code: str, db: Path) -> str:
    done = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "disk I/O" not in done.stderr, done.stderr
    return done.stdout.strip()


def expect(holder: subprocess.Popen[str], line: str) -> None:
    assert holder.stdout is not None
    got = holder.stdout.readline().strip()
    if got != line:
        holder.kill()
        _, err = holder.communicate(timeout=60)
        pytest.fail(f"holder said {got!r}, not {line!r}: {err}")


def tell(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("\n")
    holder.stdin.flush()


@pytest.mark.parametrize("killed", [False, True], ids=["closed", "kill-9"])
@pytest.mark.parametrize("action", ["second_open", "second_read_only", "threads", "inspect",
                                    "remove_refused", "cli_events", "cli_verify"])
def test_acknowledged_writes_survive_another_process_closing(tmp_path: Path, action: str,
                                                             killed: bool) -> None:
    db = tmp_path / "s.sqlite3"
    holder = subprocess.Popen([sys.executable, HOLDER, str(db), action], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        expect(holder, "ready")
        python(OTHER, db)  # writes and closes: it must not think it was the last
        assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists()
        tell(holder)
        expect(holder, "acked")
        if killed:
            holder.send_signal(signal.SIGKILL)
        else:
            tell(holder)
            expect(holder, "closed")
        holder.wait(timeout=60)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=60)
    assert python(FRESH, db) == "3 3"  # all three acknowledged deposits, in a fresh process


def test_a_store_open_here_is_not_deleted_and_keeps_working(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    with Application.open(db, domain, create=True) as app:
        assert app.dispatch(OpenAccount(aggregate_id="a")).ok
        with pytest.raises(StoreError, match=r"open in this program.*nothing was deleted"):
            remove_sqlite_files(db)
        assert Path(db).exists() and app.dispatch(DepositMoney(aggregate_id="a", amount=1)).ok
    remove_sqlite_files(db)  # closed: now it goes
    assert not any(Path(f"{db}{s}").exists() for s in ("", "-wal", "-shm"))


def test_the_file_stays_held_until_the_last_store_on_it_closes(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    first = Application.open(str(db), domain, create=True)
    link = tmp_path / "link.sqlite3"
    link.symlink_to(db)  # the same file under another name is the same registration
    second = Application.open(str(link), domain)
    first.close()
    assert held_here(db) and read_head(link, 16) == b"SQLite format 3\x00"
    assert second.dispatch(OpenAccount(aggregate_id="b")).ok
    second.close()
    assert not held_here(db)
    assert read_head(db, 16) == b"SQLite format 3\x00"  # a plain read of a file not open here


def test_a_sqlite_connection_outliving_its_store_keeps_its_locks(tmp_path: Path) -> None:
    """A connection still open after the last store on the file closed (one the store leaked,
    or the caller's own): the registry keeps its descriptor until that connection is gone,
    header reads do not close one meanwhile, and deleting is refused."""
    db = tmp_path / "s.sqlite3"
    app = Application.open(str(db), domain, create=True)
    assert app.dispatch(OpenAccount(aggregate_id="a")).ok
    outliving = sqlite3.connect(db, isolation_level=None)
    assert outliving.execute("SELECT count(*) FROM incident_events").fetchone() == (1,)
    app.close()
    assert read_head(db, 16) == b"SQLite format 3\x00"
    with pytest.raises(StoreError, match="open in this program"):
        remove_sqlite_files(str(db))
    python(OTHER, db)
    assert Path(f"{db}-wal").exists()  # the other process did not close "last"
    outliving.execute("BEGIN IMMEDIATE")
    outliving.execute("UPDATE incident_meta SET value = value WHERE key = 'format'")
    outliving.execute("COMMIT")  # no disk I/O error: its WAL is the one on disk
    assert outliving.execute("SELECT count(*) FROM incident_events").fetchone() == (2,)
    outliving.close()
    assert python(FRESH, db) == "2 1"
    remove_sqlite_files(str(db))  # nothing open here any more: it goes


def test_a_failed_open_releases_the_file(tmp_path: Path) -> None:
    db = tmp_path / "foreign.sqlite3"
    db.write_bytes(b"not a database at all" * 10)
    with pytest.raises(StoreError):
        Application.open(str(db), domain)
    assert not held_here(db)
    os.remove(db)


def test_a_flock_survives_closing_another_descriptor_of_its_file(tmp_path: Path) -> None:
    """The shared writer's `<store>.writer.lock` uses flock, whose locks belong to the open
    file description, not to the process: an open/close of the same file elsewhere in the
    process leaves it held (so that lock file needs no registration)."""
    lock = tmp_path / "s.sqlite3.writer.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with open(lock, "rb") as other:
            other.read(1)
        probe = ("import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR)\n"
                 "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                 "except BlockingIOError:\n    print('held')\nelse:\n    print('free')\n")
        assert python(probe, lock) == "held"
    finally:
        os.close(fd)
