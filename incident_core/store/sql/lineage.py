"""Row lineage in SQL: the `incident_lineage` table (created on first use in stores made
before it existed, read as empty while absent), written by the projector's transaction and
read by indexed lookups joined with the events they name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, select, update

from incident_core.ports.values import LineageEntry
from incident_core.store.sql import schema
from incident_core.store.sql.queries import CP, E, has_table

if TYPE_CHECKING:
    from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["changed_at", "clear", "history", "record", "rename"]

L = schema.lineage
_UPSERTS: dict[str, Any] = {}
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
    store = tx.store
    statement = _UPSERTS.get(store.dialect)  # built once: building an upsert is costly
    if statement is None:
        statement = _UPSERTS[store.dialect] = store.upsert(L, ["projection", "position"])
    store.prepared("lineage_upsert", statement).run_many(tx.cursor, list(entries))


def clear(tx: SqlTransaction, projection: str) -> None:
    tx.flush()
    _ready(tx)
    tx.conn.execute(delete(L).where(L.c.projection == projection))


def rename(tx: SqlTransaction, old: str, new: str) -> None:
    tx.flush()
    _ready(tx)
    tx.conn.execute(update(L).where(L.c.projection == old).values(projection=new))


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


def changed_at(conn: Connection, position: int,
               projections: Sequence[str] | None) -> list[LineageEntry]:
    """By primary key: (projection, position) for each candidate projection (default:
    every name with a checkpoint, a small table)."""
    if projections is None:
        projections = [name for (name,) in conn.execute(select(CP.c.name))]
    stmt = _SELECT.where(L.c.projection.in_(list(projections)), L.c.position == position)
    return _entries(conn, stmt.order_by(L.c.projection))
