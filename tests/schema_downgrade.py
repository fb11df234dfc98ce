"""Turning a store made by this code (schema 6) back into schema 5's (no checkpoint stored
as FOLLOWS), and further into schema 3's layout, exactly as
schema 3 created it: `recorded_at` as ISO 8601 text, `command_type` back in the metadata
JSON, schema 3's column order, its indexes.
The upgrade tests start from it (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
    update,
)

from incident_core.envelope import format_micros
from incident_core.store.sql import schema
from incident_core.store.sql.queries import FOLLOWS
from incident_core.store.sql.slim import logical_metadata
from incident_core.store.sql.store import SqlEventStore

__all__ = ["EVENTS_3", "downgrade_to_3", "downgrade_to_5"]

_META = MetaData()
EVENTS_3 = Table(  # schema 3's definition, as it was
    "incident_events", _META,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("event_id", Text, nullable=False),
    Column("aggregate_id", Text, nullable=False),
    Column("aggregate_type", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("causation_id", Text, nullable=True),
    Column("correlation_id", Text, nullable=True),
    Column("command_id", Text, nullable=True),
    Column("checksum", BigInteger, nullable=True),
    UniqueConstraint("aggregate_id", "version", name="incident_events_stream_version"),
    UniqueConstraint("event_id", name="incident_events_event_id"),
)
_INDEXES = [  # attached to EVENTS_3: made with it
    Index(f"incident_events_{name}", EVENTS_3.c[f"{name}_id"],
          sqlite_where=EVENTS_3.c[f"{name}_id"].is_not(None),
          postgresql_where=EVENTS_3.c[f"{name}_id"].is_not(None))
    for name in ("causation", "correlation", "command")
] + [Index("incident_events_type", EVENTS_3.c.event_type, EVENTS_3.c.position)]


def downgrade_to_5(store: SqlEventStore) -> None:
    """Checkpoints stored as FOLLOWS written as the head's position, and schema version 5
    recorded (schema 5 has everything else as schema 6 has it)."""
    cp, events = schema.checkpoints, schema.events
    with store.write_engine.begin() as conn:
        head = conn.execute(select(func.coalesce(func.max(events.c.position), 0))).scalar()
        conn.execute(update(cp).where(cp.c.position == FOLLOWS).values(position=head))
        conn.execute(update(schema.meta).where(schema.meta.c.key == "schema_version")
                     .values(value="5"))
    store.schema_version = 5


def downgrade_to_3(store: SqlEventStore) -> None:
    """Rebuild the events table in schema 3's layout (times as text, checksums as they are:
    they cover the text form) and record schema version 3."""
    if store.schema_version > 5:
        downgrade_to_5(store)
    with store.write_engine.begin() as conn:
        for index in (*schema.GUARD_INDEXES, *schema.EVENT_INDEXES):  # constant test DDL
            conn.execute(text(f"DROP INDEX {index.name}"))
        conn.execute(text("ALTER TABLE incident_events RENAME TO incident_events_4"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE incident_events_4 DROP CONSTRAINT "
                              "incident_events_pkey"))
        EVENTS_3.create(conn)  # with its indexes
        new = schema.events.to_metadata(MetaData(), name="incident_events_4")
        rows = [dict(row._mapping) for row in conn.execute(select(new))]
        for row in rows:
            row["recorded_at"] = format_micros(row["recorded_at"])
            row["metadata"] = logical_metadata(row["metadata"], row.pop("command_type"))
        if rows:
            conn.execute(EVENTS_3.insert(), rows)
        conn.execute(text("DROP TABLE incident_events_4"))
        conn.execute(update(schema.meta).where(schema.meta.c.key == "schema_version")
                     .values(value="3"))
    store.schema_version = 3
