"""WAL checkpoints off the command path (SQLite).

SQLite's automatic checkpoint runs inside the COMMIT of whichever write crosses 1,000 WAL
pages: that command pays for copying the WAL into the database and an extra fsync (the p99
and the stalls of a busy store). The store's writer connection turns it off and this
checkpointer runs a PASSIVE checkpoint on a connection of its own, in a background thread,
every `every` commits, and once more at close (like SQLite's own threshold, a store that
only sees a few commits is not checkpointed before it closes: its file stays as it is).

A checkpoint running beside a busy writer may never catch up with it, and SQLite starts
the WAL over only once it has: when a background checkpoint finds more than `limit` frames
in the WAL, the writer is asked to run one checkpoint itself, right after its commit (a
rare pause, copying only what the background left, instead of a WAL that grows for as long
as the writes go on).

Durability is unchanged: a commit is durable in the WAL before it returns, whatever the
checkpoints do. Readers are unaffected: a PASSIVE checkpoint takes no lock a reader or the
writer waits for; it copies what no reader still needs, and SQLite starts the WAL over from
its beginning once everything has been copied, so the file does not grow without bound.
"""

from __future__ import annotations

import sqlite3
import threading

__all__ = ["WalCheckpointer"]


class WalCheckpointer:
    def __init__(self, path: str, *, every: int = 100, limit: int = 4096) -> None:
        self._path = path
        self._limit = limit
        self._frames = 0  # WAL frames seen by the last background checkpoint
        self._every = every
        self._pending = 0
        self._closed = False
        # the Condition's lock, taken directly on the command path (no Python-level
        # `Condition.__enter__` per commit)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self.runs = 0  # checkpoints run (seen by tests and benchmarks)

    def committed(self) -> bool:
        """Called by the writer after each commit: cheap (no I/O). True when the writer
        should checkpoint itself now (the WAL is past the limit and not starting over)."""
        with self._lock:
            self._pending += 1
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="incident-wal-checkpoint")
                self._thread.start()
            if self._pending >= self._every:
                self._wake.notify()
        if self._frames <= self._limit:
            return False
        self._frames = 0  # asked once per report (background, or the writer's own)
        return True

    def writer_checkpointed(self, busy: int, frames: int, copied: int) -> None:
        """What the writer's own checkpoint did: if it could not copy everything (the
        background one was running at the same moment), the next commit asks again."""
        if busy or copied < frames:
            self._frames = max(self._frames, frames)

    def _due(self) -> tuple[bool, bool]:
        """Wait until a checkpoint is due; (run one, then stop)."""
        with self._wake:
            while not self._closed and self._pending < self._every:
                self._wake.wait()
            run = self._pending > 0
            self._pending = 0
            return run, self._closed

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, timeout=1.0, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error:
            return  # checkpoints then happen when the last connection closes
        try:
            while True:
                run, stop = self._due()
                if run:
                    try:
                        _busy, frames, _copied = conn.execute(
                            "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        self._frames = frames
                        self.runs += 1
                    except sqlite3.Error:
                        pass  # busy or closing: the next one catches up
                if stop:
                    return
        finally:
            conn.close()

    def close(self) -> None:
        """Run a last checkpoint of what is pending and stop the thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
