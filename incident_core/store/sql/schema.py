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
)

from incident_core.projections.definition import ColumnKind, ProjectionSpec

__all__ = [
    "EVENT_INDEXES",
    "GUARD_INDEXES",
    "OLD_EVENT_INDEXES",
    "aggregate_snapshots",
    "checkpoints",
    "events",
    "lineage",
    "lineage_names",
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

# Schema 4's physical order: fixed-width columns first (no alignment padding on PostgreSQL),
# then the texts, the largest (data, metadata) last.
events = Table(
    "incident_events", metadata,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    # Schema 4: microseconds since the Unix epoch, UTC (schema 3: ISO 8601 text; the API and
    # exports keep the text form, `envelope.format_micros`).
    Column("recorded_at", BigInteger, nullable=False),
    # Schema 3: CRC-32 of the row's logical content (see store/sql/slim.py).
    Column("checksum", BigInteger, nullable=True),
    Column("version", Integer, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("aggregate_id", Text, nullable=False),
    Column("aggregate_type", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    # Schema 2: copied out of `metadata`, so causes and correlations are found by index.
    # Schema 3: lifted out of it (stored once; NULL where equal to the id before it in the
    # chain event -> command -> causation -> correlation; see store/slim.py).
    Column("command_id", Text, nullable=True),  # schema 3
    Column("causation_id", Text, nullable=True),
    Column("correlation_id", Text, nullable=True),
    # Schema 4: the engine's `command_type`, lifted out of `metadata` when it is its last
    # key (NULL: not lifted, it stays in the JSON; see store/sql/slim.py).
    Column("command_type", Text, nullable=True),
    Column("data", Text, nullable=False),
    Column("metadata", Text, nullable=False),
)

# The log's two uniqueness guards, as named unique indexes (stores made before were given
# them as UNIQUE constraints: SQLite's autoindexes, which cannot be dropped; they keep
# them). An index can be dropped for a large import into an empty store and built again,
# sorted, before it commits (`import_indexes`); a duplicate then fails the whole import.
# The optimistic-concurrency guard: two writers can never record the same version.
STREAM_VERSION = Index("incident_events_stream_version", events.c.aggregate_id,
                       events.c.version, unique=True)
EVENT_ID = Index("incident_events_event_id", events.c.event_id, unique=True)
GUARD_INDEXES = (STREAM_VERSION, EVENT_ID)


def _partial(name: str, column: Column[str]) -> Index:
    """A partial index: only the rows where the column holds an id of its own (the
    PostgreSQL form is added by `PostgresDialect.complete_schema`: naming it here would
    import SQLAlchemy's PostgreSQL dialect into every SQLite process)."""
    return Index(name, column, sqlite_where=column.is_not(None))


PARTIAL_INDEXES = (
    _partial("incident_events_causation", events.c.causation_id),
    _partial("incident_events_correlation", events.c.correlation_id),
    _partial("incident_events_command", events.c.command_id),
)
EVENT_INDEXES = (*PARTIAL_INDEXES,
                 Index("incident_events_type", events.c.event_type, events.c.position))


# Schema 2's full indexes, dropped by the migration to 3.
OLD_EVENT_INDEXES = ("incident_events_causation", "incident_events_correlation")

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


# Row lineage index (schema 5): which events a custom-key handler applied to which row,
# (projection, row key, position); values are recomputed from the log on read, and rows of
# handlers keyed by the aggregate id need no entry (see `incident_core.engine.lineage`).
# Filed under the id of the lineage's name (`lineage_names`). No rowid besides the key.
lineage = Table(
    "incident_lineage_index", metadata,
    Column("projection", Integer, primary_key=True, autoincrement=False),  # lineage_names.id
    Column("row_key", Text, primary_key=True),
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    sqlite_with_rowid=False,
)
# The name each lineage's entries are filed under: renaming a lineage (a rebuild's staged
# one promoted) moves the name; a cleared one keeps its id with no name until its entries
# are deleted, a few thousand per later lineage write. `start`: the index is complete after
# this position (NULL: not at all, the projection's lineage is off).
lineage_names = Table(
    "incident_lineage_names", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=True, unique=True),
    Column("start", BigInteger, nullable=True),
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


# Saga decisions: commands a process-manager step dispatched that the domain rejected (they
# leave no event). Created on first write in older stores (no schema bump); read by
# correlation id.
saga_outcomes = Table(
    "incident_saga_outcomes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("process_manager", Text, nullable=False),
    Column("cause_position", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("cause_event_id", Text, nullable=False),
    Column("correlation_id", Text, nullable=False),
    Column("command_type", Text, nullable=False),
    Column("aggregate_id", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Index("incident_saga_outcomes_correlation", "correlation_id", "id"),
)
