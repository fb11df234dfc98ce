"""The old row-lineage table, `incident_lineage` (every entry with the row's whole JSON before
and after and its event id): read as it is while a store still holds it (a read-only open
writes nothing), and converted into the slim `incident_row_lineage` by the store's first
lineage write, in that write's transaction (`convert`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    Text,
    select,
)

from incident_core.ports.values import LineageEntry
from incident_core.store.sql.lineage_format import Encoder
from incident_core.store.sql.queries import E
from incident_core.store.sql.times import time_text

__all__ = ["OLD", "changed_at", "convert", "history"]

OLD = Table(
    "incident_lineage", MetaData(),
    Column("projection", Text, primary_key=True),
    Column("row_key", Text, primary_key=True),
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("event_id", Text, nullable=False),
    Column("values_before", Text, nullable=True),
    Column("values_after", Text, nullable=True),
)
_SELECT = (select(OLD, E.c.event_type, E.c.recorded_at)
           .join(E, E.c.position == OLD.c.position))
PAGE = 20_000  # old entries converted per query


def _entries(conn: Connection, stmt: Any) -> list[LineageEntry]:
    out = []
    for row in conn.execute(stmt):
        mapping = dict(row._mapping)
        out.append(LineageEntry.from_stored(mapping, mapping["event_type"],
                                            time_text(mapping["recorded_at"])))
    return out


def history(conn: Connection, projection: str, key: str) -> list[LineageEntry]:
    stmt = _SELECT.where(OLD.c.projection == projection, OLD.c.row_key == key)
    return _entries(conn, stmt.order_by(OLD.c.position))


def changed_at(conn: Connection, position: int,
               projections: Sequence[str]) -> list[LineageEntry]:
    stmt = _SELECT.where(OLD.c.projection.in_(list(projections)), OLD.c.position == position)
    return _entries(conn, stmt.order_by(OLD.c.projection))


def convert(conn: Connection, insert: Callable[[list[dict[str, Any]]], None]) -> None:
    """Every old entry, row by row in position order, stored in the slim format through
    `insert`, then the old table dropped: all in the caller's transaction."""
    encoder = Encoder()
    order = (OLD.c.projection, OLD.c.row_key, OLD.c.position)
    after: tuple[Any, ...] | None = None
    while True:
        stmt = select(OLD).order_by(*order).limit(PAGE)
        if after is not None:
            stmt = stmt.where(_after(after))
        page = [dict(row._mapping) for row in conn.execute(stmt)]
        if not page:
            break
        insert([encoder.row(entry) for entry in page])
        encoder.last = {k: v for k, v in encoder.last.items() if k == _key(page[-1])}
        after = (page[-1]["projection"], page[-1]["row_key"], page[-1]["position"])
    OLD.drop(conn)


def _key(entry: dict[str, Any]) -> tuple[str, str]:
    return entry["projection"], entry["row_key"]


def _after(last: tuple[Any, ...]) -> Any:
    """Keyset condition: (projection, row_key, position) > last."""
    p, k, n = last
    c = OLD.c
    return (c.projection > p) | ((c.projection == p) & (c.row_key > k)) | (
        (c.projection == p) & (c.row_key == k) & (c.position > n))
