"""Schema 5: row lineage becomes an index of which events custom-key handlers applied to
which row (`schema.lineage`); values are recomputed from the log on read (see
`incident_core.engine.lineage`). Schema 4's `incident_row_lineage` (and an older
`incident_lineage`) are copied into it, key columns only (a superset is harmless: the read
skips events the projection does not key to the row), then dropped. Every name's `start` says
from where its index is complete: after its last entry that did not follow on from the row's
previous one (lineage was off before it), else from the start."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

from incident_core.store.sql import schema
from incident_core.store.sql.lineage import OLD
from incident_core.store.sql.queries import has_table

__all__ = ["to_5"]

L = schema.lineage
N = schema.lineage_names
LEGACY = Table(  # the lineage table before schema 4's slim one (whole rows, by name)
    "incident_lineage", MetaData(),
    Column("projection", Text, primary_key=True),
    Column("row_key", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True),
)


def to_5(conn: Connection) -> None:
    if not has_table(conn, N.name):
        N.create(conn)
    elif "start" not in {c["name"] for c in inspect(conn).get_columns(N.name)}:
        conn.execute(text("ALTER TABLE incident_lineage_names ADD COLUMN start BIGINT"))
    L.create(conn, checkfirst=True)
    if has_table(conn, OLD.name):
        _from_slim(conn)
    conn.execute(N.delete().where(N.c.name.is_(None)))  # cleared: their entries are gone
    if has_table(conn, LEGACY.name):
        _from_legacy(conn)


def _from_slim(conn: Connection) -> None:
    conn.execute(update(N).values(start=0))
    breaks = (select(OLD.c.projection, func.max(OLD.c.position))
              .where(OLD.c.before.is_not(None)).group_by(OLD.c.projection))
    for projection, position in conn.execute(breaks).all():
        conn.execute(update(N).where(N.c.id == projection).values(start=position))
    named = select(N.c.id).where(N.c.name.is_not(None))
    kept = (select(OLD.c.projection, OLD.c.row_key, OLD.c.position)
            .where(OLD.c.projection.in_(named)))
    conn.execute(insert(L).from_select(["projection", "row_key", "position"], kept))
    conn.execute(text("DROP TABLE incident_row_lineage"))  # constant DDL


def _from_legacy(conn: Connection) -> None:
    """Whole-row entries by name: complete only after each name's last entry (whether it
    ever broke off is not known without folding every row)."""
    known = {name for (name,) in conn.execute(select(N.c.name))}
    lasts = (select(LEGACY.c.projection, func.max(LEGACY.c.position))
             .group_by(LEGACY.c.projection))
    for name, position in conn.execute(lasts).all():
        if name not in known:
            conn.execute(insert(N).values(name=name, start=position))
    kept = (select(N.c.id, LEGACY.c.row_key, LEGACY.c.position)
            .join(N, N.c.name == LEGACY.c.projection))
    conn.execute(insert(L).from_select(["projection", "row_key", "position"], kept))
    conn.execute(text("DROP TABLE incident_lineage"))  # constant DDL
