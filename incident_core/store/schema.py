"""The SQL schema of an Incident store (one definition for every SQL dialect)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from incident_core.projections.definition import ColumnKind, ProjectionSpec

__all__ = [
    "EVENT_INDEXES",
    "aggregate_snapshots",
    "checkpoints",
    "events",
    "meta",
    "metadata",
    "parked",
    "projection_table",
    "streams",
]

metadata = MetaData()

meta = Table(
    "incident_meta", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

events = Table(
    "incident_events", metadata,
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
    # Copied out of `metadata` (schema 2) so causes and correlations are found by index.
    Column("causation_id", Text, nullable=True),
    Column("correlation_id", Text, nullable=True),
    # The optimistic-concurrency guard: two writers can never record the same version.
    UniqueConstraint("aggregate_id", "version", name="incident_events_stream_version"),
    UniqueConstraint("event_id", name="incident_events_event_id"),
)

EVENT_INDEXES = (
    Index("incident_events_causation", events.c.causation_id),
    Index("incident_events_correlation", events.c.correlation_id),
    Index("incident_events_type", events.c.event_type, events.c.position),
)

streams = Table(
    "incident_streams", metadata,
    Column("aggregate_id", Text, primary_key=True),
    Column("aggregate_type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("last_recorded_at", Text, nullable=False),
    Column("last_position", BigInteger, nullable=False),
)
Index("incident_streams_type", streams.c.aggregate_type, streams.c.aggregate_id)

checkpoints = Table(
    "incident_checkpoints", metadata,
    Column("name", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("signature", Text, nullable=False, default=""),
)

_KINDS: dict[ColumnKind, type[Text] | type[BigInteger] | type[Float[float]] | type[Boolean]] = {
    "text": Text, "integer": BigInteger, "float": Float, "boolean": Boolean,
}


def projection_table(spec: ProjectionSpec, *, name: str | None = None) -> Table:
    """The real SQL table of a projection (one per projection, plain SQL-queryable)."""
    cols = [
        Column(c.name, _KINDS[c.kind](), primary_key=(c.name == spec.key),
               nullable=c.nullable and c.name != spec.key)
        for c in spec.columns
    ]
    return Table(name or spec.name, MetaData(), *cols)


# Saga steps whose handler raised (created on demand in older stores: no schema bump).
parked = Table(
    "incident_parked", metadata,
    Column("process_manager", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("aggregate_id", Text, nullable=False),
    Column("correlation_id", Text, nullable=True),
    Column("error", Text, nullable=False),
    Column("traceback", Text, nullable=False),
    Column("parked_at", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("skip_reason", Text, nullable=True),
)


# Aggregate snapshots: a state folded up to `version`, kept for the `fingerprint` of the
# state model it was made with (created on demand in older stores: no schema bump).
aggregate_snapshots = Table(
    "incident_aggregate_snapshots", metadata,
    Column("aggregate_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("aggregate_type", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("taken_at", Text, nullable=False),
)
