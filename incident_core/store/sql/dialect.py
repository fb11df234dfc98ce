"""What a SQL database does differently, as one object per dialect (`SqliteDialect` in
`store/sql/sqlite.py`, `PostgresDialect` in `store/sql/postgres.py`): the shared SQL adapter
asks its dialect instead of comparing dialect names.

A dialect is stateless and shared; what a store holds per database (SQLite's one write
connection, PostgreSQL's LISTEN connection) stays with the store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Connection, Table, text

from incident_core.errors import IncidentError
from incident_core.store.sql.errors import translate_errors
from incident_core.store.sql.walcheck import WalCheckpointer

__all__ = ["Dialect"]


class Dialect(ABC):
    """The differences between the SQL databases a store can live in."""

    name: ClassVar[str]  # SQLAlchemy's name of the dialect ("sqlite", "postgresql")
    # One write connection per store that transactions take turns on, and no other writer
    # in this process: the store may remember the head and checkpoints between
    # transactions while the database says nothing else committed (SQLite's data_version).
    single_writer: ClassVar[bool] = False

    @abstractmethod
    def insert(self, table: Table) -> Any:
        """The dialect's INSERT for `table`, which has ON CONFLICT DO NOTHING / DO UPDATE."""

    def upsert(self, table: Table, key_columns: list[str] | tuple[str, ...]) -> Any:
        """INSERT, or UPDATE every other column of the row with these key columns."""
        stmt = self.insert(table)
        updates = {c.name: stmt.excluded[c.name] for c in table.columns
                   if c.name not in key_columns}
        return stmt.on_conflict_do_update(index_elements=list(key_columns), set_=updates)

    def prepare_writer(self, conn: Connection) -> None:
        """Settings of a single writer's long-lived write connection, once per connection."""
        return  # nothing to do by default

    def begin_write(self, raw: Any, target: str) -> None:
        """Begin a write transaction, holding the write lock, on a single writer's driver
        connection `raw` (single writer only)."""
        raise NotImplementedError(f"{self.name} has no single writer")

    def data_version(self, cursor: Any) -> int:
        """A number that changes when another connection commits (single writer only)."""
        raise NotImplementedError(f"{self.name} keeps no writer cache")

    def after_commit(self, conn: Connection, checkpointer: WalCheckpointer,
                     appended: int) -> None:
        """Upkeep on a single writer's connection after a commit that appended `appended`
        events (SQLite: a WAL checkpoint when the background ones fell behind)."""
        return  # nothing to do by default

    def interrupt(self, raw: Any) -> None:
        """Ask the database to stop the statement the driver connection `raw` is running
        (from another thread; a connection between statements ignores it)."""
        return  # nothing to do by default

    def complete_schema(self) -> None:
        """Finish the schema's definitions for this dialect before they are created."""
        return  # nothing to do by default

    def lock(self, conn: Connection) -> None:
        """Take the store's single-writer lock in this write transaction, if BEGIN did not
        (SQLite's BEGIN IMMEDIATE already has)."""
        return  # nothing to do by default

    def announce(self, conn: Connection, head: int) -> None:
        """Tell other processes' watchers, with the commit, that the head moved to `head`
        (nothing to do where they look at the head themselves)."""
        return  # nothing to do by default

    def rename_table(self, conn: Connection, old: str, new: str) -> None:
        """Rename a projection table (and what is named after it) to `new`."""
        quote = conn.dialect.identifier_preparer.quote
        conn.execute(text(f"ALTER TABLE {quote(old)} RENAME TO {quote(new)}"))

    @abstractmethod
    def epoch(self, column: Any) -> Any:
        """Seconds since 1970 of an ISO-8601 UTC text column, as a SQL expression."""

    def database_file(self, target: str) -> Path | None:
        """The file holding the store at `target`; None for a server database."""
        return None

    def translate(self, exc: Exception) -> IncidentError:
        """A driver/SQLAlchemy error as the library's own exception."""
        return translate_errors(exc)
