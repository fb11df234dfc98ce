"""PostgreSQL specifics: the engine, atomic store creation, and live updates over LISTEN/NOTIFY.

Everything else is the shared SQL adapter (`SqlEventStore`), which on PostgreSQL already takes
the transaction-scoped advisory lock `PG_APPEND_LOCK` before every write and sends
`pg_notify(NOTIFY_CHANNEL, head)` before committing one that appended events.

This module imports psycopg; `open_store` imports it only for a PostgreSQL URL, so the rest of
`incident_core` works without the `postgres` extra installed.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from incident_core.errors import StoreError
from incident_core.store.sql import schema
from incident_core.store.sql.errors import translate_errors
from incident_core.store.sql.meta import format_rows
from incident_core.store.sql.queries import NOTIFY_CHANNEL, PG_APPEND_LOCK
from incident_core.store.sql.store import SqlEventStore

__all__ = [
    "CONNECT_TIMEOUT_S",
    "IDLE_IN_TRANSACTION_TIMEOUT_S",
    "LOCK_TIMEOUT_S",
    "PostgresEventStore",
    "postgres_engine",
]

CONNECT_TIMEOUT_S = 10
# Server settings of every session, before the URL's own `options` (which win):
# - a writer waits at most as long for the append lock as SQLite waits for its write lock,
#   then gets a clear error instead of hanging behind a stuck writer;
# - a session left idle inside a transaction (a frozen or vanished client) is ended, so it
#   cannot hold the append lock, which every writer needs, for longer than that.
LOCK_TIMEOUT_S = 30
IDLE_IN_TRANSACTION_TIMEOUT_S = 60
_SESSION_OPTIONS = (f"-c lock_timeout={LOCK_TIMEOUT_S}s "
                    f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_S}s")
# After the URL's options: a read-only store stays read-only whatever they say.
_READ_ONLY_OPTION = "-c default_transaction_read_only=on"


def postgres_engine(target: str, *, read_only: bool) -> Engine:
    """An engine for a `postgresql[+psycopg]://` URL. A read-only engine's sessions default
    to read-only transactions on the server, so no statement can write, whoever sends it."""
    url = make_url(target)
    driver = url.get_driver_name()
    if driver != "psycopg":
        raise StoreError(f"Incident talks to PostgreSQL through psycopg 3, not {driver}: "
                         "use a postgresql+psycopg:// URL")
    engine = create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=16,
                           connect_args=_connect_args(url, read_only=read_only))
    if read_only:
        # Also BEGIN READ ONLY per transaction (SQLAlchemy's own option, honoured by psycopg).
        engine = engine.execution_options(postgresql_readonly=True)
    return engine


def _connect_args(url: URL, *, read_only: bool) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        args["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in url.query:
        args["application_name"] = "incident"
    if "keepalives_idle" not in url.query:
        # A follower's LISTEN connection idles for hours: notice a vanished server or
        # network path within about a minute instead of the operating system's two hours.
        args.update(keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
    given = url.query.get("options", "")
    given = given if isinstance(given, str) else " ".join(given)
    options = [_SESSION_OPTIONS, given, _READ_ONLY_OPTION if read_only else ""]
    args["options"] = " ".join(o for o in options if o)
    return args


class PostgresEventStore(SqlEventStore):
    """The SQL adapter on a PostgreSQL server; `wait_for_change` sleeps on LISTEN."""

    def __init__(self, engine: Engine, target: str, *, read_only: bool) -> None:
        super().__init__(engine, target, read_only=read_only)
        self._listener: _Listener | None = None
        self._listener_lock = threading.Lock()
        self._last_head: tuple[_Listener, int, int] | None = None  # listener, generation, head
        self._closed = False

    def create_schema(self) -> None:
        """Create the tables and the meta rows in one transaction (PostgreSQL's DDL is
        transactional), under the append lock so that concurrent creators queue up."""
        rows = format_rows()
        try:
            with self._write_engine.begin() as conn:
                conn.execute(select(func.pg_advisory_xact_lock(PG_APPEND_LOCK)))
                schema.for_dialect("postgresql")
                schema.metadata.create_all(conn)
                existing = set(conn.execute(select(schema.meta.c.key)).scalars())
                missing = [r for r in rows if r["key"] not in existing]
                if missing:
                    conn.execute(schema.meta.insert(), missing)
        except sa_exc.SQLAlchemyError as exc:
            raise translate_errors(exc) from exc

    def wait_for_change(self, known_head: int, timeout: float) -> int:
        """Block until another commit moves the head (woken by NOTIFY, never by polling).
        Queries the head at most once at the start and once after each notification."""
        deadline = time.monotonic() + timeout
        listener = self._listening()
        seen, current = self._head_as_of(listener)
        while current == known_head:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                break
            woken = listener.wait_past(seen, remaining)
            if woken is None:
                break
            seen, current = woken, self.head()
            self._last_head = (listener, seen, current)
        return current

    def _head_as_of(self, listener: _Listener) -> tuple[int, int]:
        """The listener's generation and the head. Every append notifies, so a head read
        after generation g stays the head while the generation is still g: then no query
        is needed (a follower calling in a loop with a short timeout costs nothing)."""
        generation = listener.generation
        last = self._last_head
        if last is not None and last[0] is listener and last[1] == generation:
            return generation, last[2]
        head = self.head()
        self._last_head = (listener, generation, head)
        return generation, head

    def _listening(self) -> _Listener:
        """The running listener; started (LISTEN committed) before this returns."""
        with self._listener_lock:
            if self._closed:
                raise StoreError(f"{self.target} is closed")
            if self._listener is None or self._listener.stopped:
                self._listener = _Listener(self._listen_connection(), self.target)
            return self._listener

    def _listen_connection(self) -> psycopg.Connection[Any]:
        try:
            pooled = self.engine.raw_connection()
        except sa_exc.SQLAlchemyError as exc:
            raise translate_errors(exc) from exc
        conn = pooled.driver_connection
        pooled.detach()  # ours alone from now on: the pool forgets it
        if not isinstance(conn, psycopg.Connection):
            pooled.close()
            raise StoreError(f"{self.target}: LISTEN needs a psycopg 3 connection")
        try:
            conn.rollback()
            conn.autocommit = True
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"cannot listen for changes on {self.target}: {exc}") from None
        return conn

    def close(self) -> None:
        with self._listener_lock:
            self._closed = True
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        super().close()


class _Listener:
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
