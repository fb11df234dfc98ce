"""Index work deferred for a large import: the secondary indexes of the events table
(`schema.EVENT_INDEXES`, whatever they are in this schema) dropped when the import starts
and built again, each in one sorted pass, before it commits; in the same transaction, so a
failed or cancelled import (rolled back) leaves them as they were.

The two uniqueness guards (`schema.GUARD_INDEXES`: event ids, stream versions) are
deferred too when the log is empty at the start and the store has them as named indexes
(stores made before have them as UNIQUE constraints, which SQLite cannot drop: they keep
them, in place). They are built again first: a duplicate fails that build, and the import
fails as a whole with an error naming the id or the stream and version twice recorded
(found with a query) and both positions. On a log with events they stay in place: the
import looks each batch's ids up in the id index, and building them again would sort the
store's own rows too.

Only on a single-writer store (SQLite in WAL mode: readers go on reading their snapshot,
indexes included, while the writer works). On PostgreSQL dropping an index locks every
reader out of the table until the commit, so the indexes are kept there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Index, func, inspect, select
from sqlalchemy import exc as sa_exc

from incident_core.errors import StoreError
from incident_core.store.sql import schema

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["deferred_indexes"]

E = schema.events


@contextmanager
def deferred_indexes(tx: SqlTransaction) -> Iterator[None]:
    """The events table's secondary indexes (and, on an empty log, its guards) dropped for
    the block and built again at its end, if the block ends normally (else the transaction
    must roll back, as an import's does on any failure, and with it the drop). A duplicate
    the guards refuse at that end raises StoreError naming it."""
    if not tx.store.sql_dialect.single_writer:
        yield
        return
    tx.flush()
    present = _present(tx.conn)
    wanted = (*schema.GUARD_INDEXES, *schema.EVENT_INDEXES) if tx.head() == 0 \
        else schema.EVENT_INDEXES
    dropped = [index for index in wanted if index.name in present]
    for index in dropped:
        index.drop(tx.conn)
    yield
    tx.flush()
    for index in dropped:  # the guards first: a duplicate fails before the rest is built
        _build(tx.conn, index)


def _present(conn: Connection) -> set[str]:
    """The named indexes of the events table (SQLite's autoindexes not among them)."""
    return {str(i["name"]) for i in inspect(conn).get_indexes(E.name)}


def _build(conn: Connection, index: Index) -> None:
    try:
        index.create(conn)  # a failed statement: the transaction goes on (to ask, roll back)
    except sa_exc.IntegrityError:
        raise StoreError(_duplicate(conn, index)) from None


def _duplicate(conn: Connection, index: Index) -> str:
    """What a guard found twice, named with both positions (one sorted pass)."""
    columns = list(index.columns)
    twice = (select(*columns, func.min(E.c.position), func.max(E.c.position))
             .group_by(*columns).having(func.count() > 1).limit(1))
    row = conn.execute(twice).one()
    if index is schema.EVENT_ID:
        what = f"event id {row[0]}"
    else:
        what = f"version {row[1]} of stream {row[0]}"
    return (f"{what} would be recorded twice (positions {row[-2]} and {row[-1]}); "
            "nothing of this import was written")
