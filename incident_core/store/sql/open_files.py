"""The store files this process has open, kept open while it does (POSIX lock safety).

SQLite locks a database with POSIX advisory locks (`fcntl`), and those belong to the
(process, file) pair: closing *any* descriptor of a file releases *all* of this process's
locks on it, the ones SQLite holds through its own descriptors included. Another process
then believes it is the last connection, checkpoints and deletes the WAL this process is
still writing to: acknowledged commits end up in a deleted file.

So no code of ours closes a descriptor of a file that SQLite may hold locks on in this
process. A store registers its database file here (`hold`) before SQLite opens it and
releases it after the last SQLite connection on it is closed; the registry keeps one
read-only descriptor per file (by device and inode: symlinks and hard links are one file),
reference counted, and closes it only when the last holder releases it (SQLite has no locks
on the file in this process then). Header reads go through that descriptor (`os.pread`).

A file no holder has open is read with a plain open/read/close: SQLite in this process only
opens store files while they are held (every store, `inspect_sqlite`, the background
checkpointer, the close-time tidying and the CLI's quick read run between `hold` and
`release`), so it has no locks to lose on such a file. The read happens under the
registry's lock, so a store opening on the same file in another thread waits for it to
finish. (A sqlite3 connection some other code of this process opens itself is outside this
guarantee, as is any plain open/close of a store file outside our code: POSIX gives no
defence against those.)

A SQLite connection can outlive its store (one a store failed to close, or the caller's
own): so a descriptor of ours is only ever closed when no other descriptor of this process
is open on the same file (checked in `/proc/self/fd`); otherwise it lingers and is closed by
a later registry call once the file is free. Header reads follow the same rule.

`claimed` is the opposite: a file this process is about to lock and delete (`exclusively`)
is refused while any holder has it open here, and no store opens it while it is claimed.
The `-wal`, `-shm` and `-journal` companions are only opened by SQLite, and only while the
database file is held, so guarding the database file guards them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["Holding", "StoreInUse", "claimed", "held_here", "hold", "read_head"]

_Key = tuple[int, int]


class StoreInUse(OSError):
    """The store is open in another process, or in this one (deleting it would lose it)."""


class _Held:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.users = 1
        self.spare: list[int] = []  # descriptors opened by a race with a rename, kept


_lock = threading.Lock()
_held: dict[_Key, _Held] = {}
_claimed: set[_Key] = set()
# Our descriptors of files no holder has open any more but some other descriptor of this
# process still has (a SQLite connection that outlived its store): closed once it is gone.
_lingering: dict[_Key, list[int]] = {}
_FD_DIR = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"


def _open_elsewhere(key: _Key, ours: list[int]) -> bool:
    """Whether a descriptor of this process other than `ours` is open on the file `key`."""
    for name in os.listdir(_FD_DIR):
        fd = int(name)
        if fd in ours:
            continue
        with contextlib.suppress(OSError):
            info = os.fstat(fd)
            if (info.st_dev, info.st_ino) == key:
                return True
    return False


def _close_or_keep(key: _Key, fds: list[int]) -> None:
    """Close our descriptors of `key`, unless another descriptor of this process is open on
    it: then SQLite may hold locks through it, which closing ours would release."""
    fds = fds + _lingering.pop(key, [])
    if _open_elsewhere(key, fds):
        _lingering[key] = fds
        return
    for fd in fds:
        os.close(fd)


def _sweep() -> None:
    for key in list(_lingering):
        _close_or_keep(key, [])


def _key_of(path: str | Path) -> _Key | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


class Holding:
    """One holder's share of a held file; `release()` once SQLite is done with it."""

    def __init__(self, key: _Key) -> None:
        self._key: _Key | None = key

    def release(self) -> None:
        """Give the share back (idempotent); the last one closes the descriptor."""
        with _lock:
            key, self._key = self._key, None
            if key is None:
                return
            entry = _held[key]
            entry.users -= 1
            if entry.users:
                return
            del _held[key]
            # under the lock: a store opening this file meanwhile registers it anew only
            # after these are closed, so the close cannot release its SQLite locks
            _close_or_keep(key, [entry.fd, *entry.spare])
            _sweep()


def hold(path: str | Path, *, create: bool = False) -> Holding:
    """Register the store file at `path` as open in this process (opening it read-only, or
    with `create`, creating it empty). Raises OSError if it cannot be opened, StoreInUse
    while this process is deleting it."""
    with _lock:
        key = _key_of(path)
        if key is not None and key in _claimed:
            raise StoreInUse(errno.EBUSY, f"{path} is being deleted in this process")
        if key is not None and key in _held:
            _held[key].users += 1
            return Holding(key)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | (os.O_CREAT if create else 0), 0o644)
        info = os.fstat(fd)
        opened = (info.st_dev, info.st_ino)
        if opened in _held:  # replaced between stat and open by a file held here: keep fd
            _held[opened].users += 1
            _held[opened].spare.append(fd)
        else:
            _held[opened] = _Held(fd)
            _held[opened].spare += _lingering.pop(opened, [])
        return Holding(opened)


def held_here(path: str | Path) -> bool:
    """Whether a store of this process has the file at `path` open."""
    with _lock:
        key = _key_of(path)
        return key is not None and key in _held


def read_head(path: str | Path, size: int) -> bytes:
    """The first `size` bytes of the file at `path`, without closing a descriptor of a file
    SQLite holds locks on in this process (see the module's docstring)."""
    with _lock:
        key = _key_of(path)
        entry = _held.get(key) if key is not None else None
        if entry is not None:
            return os.pread(entry.fd, size, 0)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return os.pread(fd, size, 0)
        finally:  # closed now unless some descriptor of this process is open on it
            info = os.fstat(fd)
            _close_or_keep((info.st_dev, info.st_ino), [fd])


@contextlib.contextmanager
def claimed(path: str) -> Iterator[None]:
    """Reserve the file at `path` for locking and deleting it: raises StoreInUse if this
    process has it open; meanwhile no store of this process opens it."""
    with _lock:
        key = _key_of(path)
        _sweep()
        if key is not None and (key in _held or key in _claimed or key in _lingering):
            raise StoreInUse(errno.EBUSY, f"{path} is open in this program; close it "
                             "first")
        if key is not None:
            _claimed.add(key)
    try:
        yield
    finally:
        if key is not None:
            with _lock:
                _claimed.discard(key)
