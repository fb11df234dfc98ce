"""Row lineage in SQL: the `incident_lineage` table (created on first use in stores made
before it existed, read as empty while absent), written by the projector's transaction and
read by indexed lookups joined with the events they name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, select

from incident_core.lineage import LineageEntry
from incident_core.store import schema
from incident_core.store.sql_queries import E, has_table

if TYPE_CHECKING:
    from incident_core.store.sql_transaction import SqlTransaction

__all__ = ["changed_at", "clear", "history", "record"]

L = schema.lineage
_SELECT = (select(L, E.c.event_type, E.c.recorded_at)
           .join(E, E.c.position == L.c.position))


def _ready(tx: SqlTransaction) -> None:
    """Create the table (and its indexes) if it is missing. Once a transaction has seen it
    (committed), the store stops asking (a creating transaction may still roll back)."""
    store = tx.store
    if not store.lineage_ready:
        if has_table(tx.conn, L.name):
            store.lineage_ready = True
        else:
            L.create(tx.conn)


def record(tx: SqlTransaction, entries: Sequence[dict[str, Any]]) -> None:
    if not entries:
        return
    _ready(tx)
    statement = tx.store.upsert(L, ["projection", "position"])
    tx.store.prepared("lineage_upsert", statement).run_many(tx.cursor, list(entries))


def clear(tx: SqlTransaction, projection: str) -> None:
    tx.flush()
    _ready(tx)
    tx.conn.execute(delete(L).where(L.c.projection == projection))


def _entries(conn: Connection, stmt: Any) -> list[LineageEntry]:
    if not has_table(conn, L.name):
        return []
    out = []
    for row in conn.execute(stmt):
        mapping = dict(row._mapping)
        out.append(LineageEntry.from_stored(mapping, mapping["event_type"],
                                            mapping["recorded_at"]))
    return out


def history(conn: Connection, projection: str, key: str) -> list[LineageEntry]:
    stmt = _SELECT.where(L.c.projection == projection, L.c.row_key == key)
    return _entries(conn, stmt.order_by(L.c.position))


def changed_at(conn: Connection, position: int) -> list[LineageEntry]:
    stmt = _SELECT.where(L.c.position == position)
    return _entries(conn, stmt.order_by(L.c.projection))
