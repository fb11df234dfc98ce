"""Index work deferred for a large import: the secondary indexes of the events table
(`schema.EVENT_INDEXES`, whatever they are in this schema) dropped when the import starts
and built again, each in one sorted pass, before it commits; in the same transaction, so a
failed or cancelled import (rolled back) leaves them as they were.

Only on a single-writer store (SQLite in WAL mode: readers go on reading their snapshot,
indexes included, while the writer works). On PostgreSQL dropping an index locks every
reader out of the table until the commit, so the indexes are kept there. The unique
constraints (event ids, stream versions) stay in place throughout: a duplicate still fails
the insert that brings it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import inspect

from incident_core.store.sql import schema

if TYPE_CHECKING:
    from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["deferred_indexes"]


@contextmanager
def deferred_indexes(tx: SqlTransaction) -> Iterator[None]:
    """The events table's secondary indexes dropped for the block and built again at its
    end, if the block ends normally (else the transaction must roll back, as an import's
    does on any failure, and with it the drop)."""
    if not tx.store.sql_dialect.single_writer:
        yield
        return
    tx.flush()
    present = {i["name"] for i in inspect(tx.conn).get_indexes(schema.events.name)}
    dropped = [index for index in schema.EVENT_INDEXES if index.name in present]
    for index in dropped:
        index.drop(tx.conn)
    yield
    tx.flush()
    for index in dropped:
        index.create(tx.conn)
