"""SQLite as a store: the dialect object, the engine and its per-connection settings.

One writer at a time: writers BEGIN IMMEDIATE (the lock up front, no deadlock on lock
upgrade), readers BEGIN deferred; the store keeps one write connection that its
transactions take turns on, with automatic WAL checkpoints off (see `walcheck.py`).
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from sqlalchemy import Connection, Engine, Table, create_engine, event, func
from sqlalchemy.pool import QueuePool

from incident_core.store.sql.dialect import Dialect
from incident_core.store.sql.lock_wait import listened, lock_timeout, waiting_for_lock
from incident_core.store.sql.walcheck import WalCheckpointer

__all__ = ["BULK_EVENTS", "SQLITE", "WRITER_CACHE_KB", "SqliteDialect", "sqlite_engine"]

WRITER_CACHE_KB = 64 * 1024
BULK_EVENTS = 1000  # a transaction appending this many checkpoints the WAL itself
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


class SqliteDialect(Dialect):
    name: ClassVar[str] = "sqlite"
    single_writer: ClassVar[bool] = True

    def insert(self, table: Table) -> Any:
        from sqlalchemy.dialects.sqlite import insert

        return insert(table)

    def epoch(self, column: Any) -> Any:
        return (func.julianday(column) - 2440587.5) * 86400.0

    def database_file(self, target: str) -> Path | None:
        return Path(target)

    def prepare_writer(self, conn: Connection) -> None:
        """Settings of the store's write connection, once per connection."""
        raw: Any = conn.connection.driver_connection
        raw.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints: see walcheck.py
        # a bigger page cache for the writer: the unique indexes of random ids spill
        # SQLite's default 2 MB on large imports (memory is only used if needed)
        raw.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KB}")

    def begin_write(self, raw: Any, target: str) -> None:
        """BEGIN IMMEDIATE on the writer's driver connection (no SQLAlchemy in between;
        the wait marked only when someone listens for it)."""
        if not listened():
            raw.execute("BEGIN IMMEDIATE")
            return
        with waiting_for_lock(f"the write lock on {target} (another process is writing)"):
            raw.execute("BEGIN IMMEDIATE")

    def interrupt(self, raw: Any) -> None:
        raw.interrupt()  # sqlite3: safe from another thread; the statement fails "interrupted"

    def data_version(self, cursor: Any) -> int:
        """Changes when another connection commits (per connection: see the store's
        writer cache)."""
        return int(cursor.execute("PRAGMA data_version").fetchone()[0])

    def after_commit(self, conn: Connection, checkpointer: WalCheckpointer,
                     appended: int) -> None:
        """Checkpoint the WAL right after this commit when the background checkpoints fell
        behind, or after a bulk write (an import's batch, not a command)."""
        if checkpointer.committed() or appended >= BULK_EVENTS:
            raw: Any = conn.connection.driver_connection
            with suppress(sqlite3.Error):  # the commit stands whatever happens here
                busy, frames, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                checkpointer.writer_checkpointed(busy, frames, copied)


SQLITE = SqliteDialect()


def sqlite_engine(path: Path, *, read_only: bool, synchronous: str,
                  immutable: bool = False) -> Engine:
    """An engine on the SQLite file at `path` (WAL, the lock wait of `lock_timeout()`)."""
    mode = "?immutable=1" if immutable else "?mode=ro" if read_only else ""
    uri = f"file:{quote(str(path.resolve()))}{mode}"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                               timeout=lock_timeout())
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout() * 1000)}")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
        return conn

    engine = create_engine("sqlite+pysqlite://", creator=connect, poolclass=QueuePool,
                           pool_size=4, max_overflow=16)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # The driver runs in autocommit; we issue BEGIN ourselves: IMMEDIATE takes the write
        # lock up front for writers (no deadlock on lock upgrade), deferred for readers.
        # Straight on the driver connection: this runs for every transaction. The store's
        # writer begins its transactions on the driver itself (`begin_write`): SQLAlchemy
        # then joins the transaction that is open.
        raw = conn.connection.dbapi_connection
        if raw.in_transaction:
            return
        if conn.get_execution_options().get("sqlite_begin") != "IMMEDIATE":
            raw.execute("BEGIN")
            return
        with waiting_for_lock(f"the write lock on {path} (another process is writing)"):
            raw.execute("BEGIN IMMEDIATE")

    return engine
