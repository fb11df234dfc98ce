"""The files of a SQLite store: a cheap structural check, its companions, whether another
process has it open, and deleting it safely.

SQLite keeps a store in one file plus companions beside it (`-wal`, `-shm`, `-journal`). A
path "is the store" if it names any of them, directly or through a symlink or hard link
(same device and inode). A process with a WAL database open holds a shared lock on the
database file's SHARED range and on the dead-man-switch byte of the `-shm` file; trying to
take those exclusively (POSIX `fcntl` locks, which SQLite itself uses) tells whether anyone
else has the store open, and holding them while deleting keeps newcomers out meanwhile.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from incident_core.errors import ReadOnlyError
from incident_core.store.sql.open_files import StoreInUse, claimed, hold, read_head

__all__ = ["COMPANIONS", "STORE_FILE_SUFFIXES", "WRITER_FILES", "StoreInUse", "check_writable",
           "exclusively", "is_store_file", "move_into_place", "read_without_trace",
           "remove_empty_wal", "remove_store_files", "structural_problem"]

COMPANIONS = ("", "-wal", "-shm", "-journal")
# The shared writer's election lock and socket beside the store's real path
# (`incident_core.engine.shared_writer`): they stay after the store is closed.
WRITER_FILES = (".writer.lock", ".writer.sock")
STORE_FILE_SUFFIXES = (*COMPANIONS, *WRITER_FILES)  # every file a store leaves beside it
SQLITE_HEADER = b"SQLite format 3\x00"
_SHARED_FIRST, _SHARED_SIZE = 0x40000002, 510  # SQLite's lock bytes in the database file
_SHM_DMS = 128  # the -shm byte every connection holds a shared lock on


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def is_store_file(candidate: str, store_path: str) -> str | None:
    """Which file of the store at `store_path` `candidate` is (its name), or None. Compares
    names and, for existing files, device and inode (symlinks, hard links)."""
    wanted = _identity(candidate)
    target = os.path.realpath(candidate)
    for suffix in COMPANIONS:
        own = store_path + suffix
        if os.path.realpath(own) == target:
            return own
        if wanted is not None and _identity(own) == wanted:
            return own
    return None


# -- the structural check -------------------------------------------------------------------
def _header_problem(path: Path, *, count_pages: bool) -> str | None:
    header = read_head(path, 100)
    size = path.stat().st_size
    if len(header) < 100 or header[:16] != SQLITE_HEADER:
        return "its SQLite header is missing or damaged"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"its header gives an impossible page size ({page_size})"
    if size % page_size:
        return f"its size ({size} bytes) is not a whole number of {page_size}-byte pages"
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96] and pages > 0  # the count is valid
    if count_pages and counted and pages * page_size > size:
        return (f"its header counts {pages} pages of {page_size} bytes but the file holds "
                f"only {size // page_size} (truncated?)")
    return None


_WAL_HEADER = 32  # bytes; a WAL longer than its header holds frames


def structural_problem(path: Path) -> str | None:
    """Why the SQLite file at `path` is structurally damaged, or None. Reads 100 bytes.
    While a WAL beside the file holds frames, the file's page count is not checked: SQLite
    reads those pages from the WAL, and a checkpoint (in another process, or one cut short
    by a full disk) writes the header before the pages it counts."""
    wal = Path(f"{path}-wal")
    has_frames = wal.exists() and wal.stat().st_size > _WAL_HEADER
    return _header_problem(path, count_pages=not has_frames)


# -- permissions and placing new files --------------------------------------------------------
def check_writable(path: Path) -> None:
    """Refuse up front what SQLite would fail on at its first write (with a driver error)."""
    if not os.access(path, os.W_OK):
        raise ReadOnlyError(f"the store {path} is read-only for you (no write permission); "
                            "read commands work, writing needs its owner")
    if not os.access(path.parent, os.W_OK) and not Path(f"{path}-wal").exists():
        raise ReadOnlyError(f"the folder of {path} is read-only for you; writing needs to "
                            f"create {path.name}-wal beside the store")


def move_into_place(temporary: Path, path: Path) -> None:
    """Link the new store in, never over a file created meanwhile (then that one is used);
    where the file system has no hard links, rename it (the same, short of that race)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        return
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if not path.exists():
            os.replace(temporary, path)


def read_without_trace(path: Path) -> bool:
    """Read the file as immutable: no WAL beside it (the file is complete) and this process
    could not remove the -wal/-shm files SQLite would create (no write permission on the
    file or its folder), so they would be left behind for the owner to trip over."""
    if Path(f"{path}-wal").exists():
        return False
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def remove_empty_wal(path: Path) -> None:
    """A read-only connection to a WAL database makes SQLite create -wal/-shm files it cannot
    remove. If we caused them and the WAL is empty, let SQLite's own last-connection cleanup
    remove them: a plain connection that closes while no one else uses the database deletes
    both and writes nothing to the database file (its WAL holds no frames)."""
    wal = Path(f"{path}-wal")
    try:
        if not wal.exists() or wal.stat().st_size != 0:
            return
        holding = hold(path)  # released after SQLite's connection (open_files.py)
        try:
            with contextlib.closing(sqlite3.connect(
                    f"file:{quote(str(path.resolve()))}?mode=rw", uri=True, timeout=0.1)) as conn:
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        finally:
            holding.release()
    except (OSError, sqlite3.Error):
        return  # another process holds the database, or the folder is read-only: leave them


# -- is it open elsewhere? ------------------------------------------------------------------
def _try_lock(fd: int, start: int, length: int) -> bool:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, length, start)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


@contextlib.contextmanager
def exclusively(path: str) -> Iterator[None]:
    """Hold the store at `path` so that no other process has it open (raises StoreInUse if
    one does, or if this process has it open itself: closing our descriptors would release
    SQLite's locks too, see open_files.py). Closing the descriptors at the end releases the
    locks; meanwhile no store of this process opens it."""
    with claimed(path), contextlib.ExitStack() as closing:
        for suffix, start, length in (("", _SHARED_FIRST, _SHARED_SIZE), ("-shm", _SHM_DMS, 1)):
            try:
                fd = os.open(path + suffix, os.O_RDWR)
            except FileNotFoundError:
                continue
            closing.callback(os.close, fd)
            if not _try_lock(fd, start, length):
                raise StoreInUse(errno.EBUSY, f"{path} is open in another process; "
                                 "close it there first")
        yield


@contextlib.contextmanager
def _no_shared_writer(path: str) -> Iterator[None]:
    """Hold the store's shared-writer lock, so that no process serves it meanwhile (raises
    StoreInUse while one does: it still has the store open)."""
    try:
        fd = os.open(os.path.realpath(path) + WRITER_FILES[0], os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreInUse(errno.EBUSY, f"{path} has a shared writer running in another "
                             "process; close it there first") from None
        yield
    finally:
        os.close(fd)


def remove_store_files(path: str) -> None:
    """Delete a SQLite store, its companions and its shared writer's lock and socket,
    refusing (StoreInUse) while another process has it open; holds SQLite's own locks and
    the writer's lock meanwhile, so no one opens or serves it half-deleted."""
    with exclusively(path), _no_shared_writer(path):
        real = os.path.realpath(path)
        for name in (*(real + s for s in WRITER_FILES[::-1]),
                     *(path + s for s in ("-wal", "-shm", "-journal", ""))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(name)
