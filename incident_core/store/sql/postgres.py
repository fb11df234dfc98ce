"""PostgreSQL as a store: the dialect object, the engine, opening (and atomically creating)
a store on a server, and live updates over LISTEN/NOTIFY.

Everything else is the shared SQL adapter (`SqlEventStore`), which asks `PostgresDialect` to
take the transaction-scoped advisory lock `PG_APPEND_LOCK` before every write and to send
`pg_notify(NOTIFY_CHANNEL, head)` before committing one that appended events.

This module imports psycopg; `open_store` imports it only for a PostgreSQL URL, so the rest of
`incident_core` works without the `postgres` extra installed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, ClassVar

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, Table, create_engine, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from incident_core.errors import NotAStoreError, ReadOnlyError, StoreError, StoreNotFoundError
from incident_core.ports import StoreTransaction
from incident_core.store.closed import closed_error
from incident_core.store.sql import schema
from incident_core.store.sql.dialect import Dialect
from incident_core.store.sql.meta import SCHEMA_VERSION, check_meta
from incident_core.store.sql.migrations import upgrade
from incident_core.store.sql.pg_listener import Listener
from incident_core.store.sql.pg_writer import PgTransaction, WriterLink
from incident_core.store.sql.queries import NOTIFY_CHANNEL, PG_APPEND_LOCK
from incident_core.store.sql.store import SqlEventStore

__all__ = [
    "CONNECT_TIMEOUT_S",
    "IDLE_IN_TRANSACTION_TIMEOUT_S",
    "LOCK_TIMEOUT_S",
    "POSTGRES",
    "PostgresDialect",
    "PostgresEventStore",
    "open_postgres",
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
INTERRUPT_TIMEOUT_S = 5  # a cancel request the server does not answer is given up
_SESSION_OPTIONS = (f"-c lock_timeout={LOCK_TIMEOUT_S}s "
                    f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_S}s")
# After the URL's options: a read-only store stays read-only whatever they say.
_READ_ONLY_OPTION = "-c default_transaction_read_only=on"


class PostgresDialect(Dialect):
    name: ClassVar[str] = "postgresql"

    def insert(self, table: Table) -> Any:
        from sqlalchemy.dialects.postgresql import insert

        return insert(table)

    def complete_schema(self) -> None:
        """The partial indexes' PostgreSQL form (see `schema._partial`)."""
        for index in schema.PARTIAL_INDEXES:
            column = next(iter(index.columns))
            index.dialect_kwargs["postgresql_where"] = column.is_not(None)

    def prepare_writer(self, conn: Connection) -> None:
        """The store's write connection (`pg_writer.py`) leaves the pool for good, and
        autocommit: its transactions send BEGIN themselves, in their first round trip
        (psycopg's implicit BEGIN would cost a round trip of its own in a pipeline)."""
        raw: Any = conn.connection.driver_connection
        conn.detach()
        raw.autocommit = True

    def interrupt(self, raw: Any) -> None:
        """A cancel request (its own connection to the server): the statement fails with
        QueryCanceled, and the pool rolls its transaction back."""
        with suppress(psycopg.Error):  # the server gone or the query over: nothing to stop
            raw.cancel_safe(timeout=INTERRUPT_TIMEOUT_S)

    def lock(self, conn: Connection) -> None:
        conn.execute(select(func.pg_advisory_xact_lock(PG_APPEND_LOCK)))

    def announce(self, conn: Connection, head: int) -> None:
        conn.execute(select(func.pg_notify(NOTIFY_CHANNEL, str(head))))

    def rename_table(self, conn: Connection, old: str, new: str) -> None:
        super().rename_table(conn, old, new)
        quote = conn.dialect.identifier_preparer.quote
        conn.execute(text(f"ALTER INDEX {quote(old + '_pkey')} RENAME TO {quote(new + '_pkey')}"))

    def epoch(self, column: Any) -> Any:
        from sqlalchemy.dialects.postgresql import TIMESTAMP

        return func.extract("epoch", func.cast(column, TIMESTAMP(True)))


POSTGRES = PostgresDialect()


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
    """The SQL adapter on a PostgreSQL server; `wait_for_change` sleeps on LISTEN; write
    transactions take turns on one write connection, in few round trips (`pg_writer.py`)."""

    def __init__(self, engine: Engine, target: str, *, read_only: bool) -> None:
        super().__init__(engine, target, read_only=read_only, sql_dialect=POSTGRES)
        self._listener: Listener | None = None
        self._listener_lock = threading.Lock()
        self._last_head: tuple[Listener, int, int] | None = None  # listener, generation, head
        self._link: WriterLink | None = None  # the write connection's pipeline
        self._closed = False

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        self.refuse_if_closed()
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        with self._writer_lock:
            try:
                tx = self._begun()
                try:
                    yield tx
                    tx.finish()
                    tx.commit()
                except BaseException:
                    tx.rollback()
                    raise
                finally:
                    tx.end()
            except (sa_exc.SQLAlchemyError, psycopg.Error) as exc:
                raise self.sql_dialect.translate(exc) from exc

    def _begun(self) -> PgTransaction:
        """A transaction begun on the write connection, holding the append lock; on a fresh
        connection if the kept one turns out to be lost (nothing was written on it yet)."""
        try:
            return self._begin_on_writer()
        except psycopg.OperationalError:
            raw = self._writer_raw
            if raw is None or not raw.broken:
                raise
        return self._begin_on_writer()

    def _begin_on_writer(self) -> PgTransaction:
        conn = self._writer_connection()
        link = self._link
        if link is None or link.raw is not self._writer_raw:
            link = self._link = WriterLink(self._writer_raw)
        tx = PgTransaction(self, conn, link)
        try:
            tx.begin()
        except BaseException:
            tx.rollback()
            tx.end()
            raise
        return tx

    def _writer_connection(self) -> Connection:
        raw = self._writer_raw
        if raw is not None and (raw.closed or raw.broken):
            self._release_writer()
        return super()._writer_connection()

    def _release_writer(self) -> None:
        """Leave the write connection's pipeline; a lost connection is invalidated, so
        that closing it neither resets it nor logs a traceback."""
        link, self._link = self._link, None
        if link is not None:
            link.leave()
        raw = self._writer_raw
        if self._writer is not None and raw is not None and (raw.closed or raw.broken):
            with suppress(sa_exc.SQLAlchemyError, psycopg.Error):
                self._writer.invalidate()

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

    def _head_as_of(self, listener: Listener) -> tuple[int, int]:
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

    def _listening(self) -> Listener:
        """The running listener; started (LISTEN committed) before this returns."""
        with self._listener_lock:
            if self._closed:
                raise closed_error(self.target)
            if self._listener is None or self._listener.stopped:
                self._listener = Listener(self._listen_connection(), self.target)
            return self._listener

    def _listen_connection(self) -> psycopg.Connection[Any]:
        try:
            pooled = self.engine.raw_connection()
        except sa_exc.SQLAlchemyError as exc:
            raise self.sql_dialect.translate(exc) from exc
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
        with self._writer_lock:
            self._release_writer()
        super().close()


def open_postgres(target: str, where: str, *, read_only: bool,
                  create: bool) -> PostgresEventStore:
    """Open (or with `create`, create) the store in the database at the URL `target`
    (`where`: the URL for display, password hidden)."""
    try:
        engine = postgres_engine(target, read_only=read_only)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"cannot use {where}: {exc}") from None
    store = PostgresEventStore(engine, where, read_only=read_only)
    try:
        if not _inspect(store, where, create=create):
            store.create_schema()  # with its meta rows, in one transaction
        elif store.schema_version < SCHEMA_VERSION and not read_only:
            upgrade(store)
    except sa_exc.SQLAlchemyError as exc:
        store.close()
        raise POSTGRES.translate(exc) from exc
    except StoreError:
        store.close()
        raise
    return store


def _inspect(store: PostgresEventStore, where: str, *, create: bool) -> bool:
    """Whether the database holds a store (its schema version read into `store`); raises
    for a database that is not one, unless it is empty and `create`."""
    with store.engine.connect() as conn:
        # One catalogue query, one snapshot: a store that another process is creating
        # right now (in one transaction) is seen either complete or not at all.
        names = set(store.engine.dialect.get_table_names(conn))
        if schema.meta.name in names:
            store.schema_version = check_meta(
                conn.execute(select(schema.meta.c.key, schema.meta.c.value)), where)
            return True
        if names and not create:
            raise NotAStoreError(f"{where} is a database but not an Incident store")
        if names:
            raise NotAStoreError(f"{where} already holds other tables; "
                                 "refusing to turn it into an Incident store")
        if not create:
            raise StoreNotFoundError(f"no store at {where} (run `incident init`)")
    return False
