"""The PostgreSQL change listener: a daemon thread on a LISTENing connection, counting
notifications (see `PostgresEventStore.wait_for_change`)."""

from __future__ import annotations

import selectors
import socket
import threading
from typing import Any

import psycopg

from incident_core.errors import StoreError

__all__ = ["Listener"]


class Listener:
    """A daemon thread that owns a LISTENing autocommit connection and counts the
    notifications it receives; waiters sleep on a condition until the count moves.
    A socket pair wakes the thread for `stop()` (works with select() on every platform)."""

    def __init__(self, conn: psycopg.Connection[Any], target: str) -> None:
        self._conn = conn
        self._target = target
        self._cond = threading.Condition()
        self._wake_read, self._wake_write = socket.socketpair()
        self.generation = 0
        self.stopped = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="incident-pg-listener",
                                        daemon=True)
        self._thread.start()

    def wait_past(self, generation: int, timeout: float) -> int | None:
        """Wait until a notification arrives after `generation`; return the new generation,
        or None on timeout or stop. Raise StoreError if the connection was lost."""
        with self._cond:
            self._cond.wait_for(lambda: self.generation != generation or self.stopped,
                                timeout)
            if self.error is not None:
                raise StoreError(f"lost the change notifications of {self._target}: "
                                 f"{self.error}")
            return None if self.generation == generation else self.generation

    def stop(self) -> None:
        try:
            self._wake_write.send(b"x")
        except OSError:
            return  # the thread already ended (and closed the socket pair) on an error
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._conn.fileno(), selectors.EVENT_READ, "database")
            selector.register(self._wake_read, selectors.EVENT_READ, "stop")
            self._drain()  # anything that arrived with the LISTEN reply
            while all(key.data == "database" for key, _ in selector.select()):
                self._drain()
        except psycopg.Error as exc:
            message = str(exc).strip()
            self.error = message.splitlines()[0] if message else type(exc).__name__
        finally:
            selector.close()
            self._conn.close()
            self._wake_read.close()
            self._wake_write.close()
            with self._cond:
                self.stopped = True
                self._cond.notify_all()

    def _drain(self) -> None:
        received = sum(1 for _ in self._conn.notifies(timeout=0))
        if received:
            with self._cond:
                self.generation += received
                self._cond.notify_all()
