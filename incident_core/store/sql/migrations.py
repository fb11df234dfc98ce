"""Upgrading a store's schema in place, on a writable open (never on a read-only one).

Each step runs in one write transaction that re-reads the version under the write lock, so
concurrent openers upgrade a store exactly once. A store read-only stays as it is: readers
know how to read older schemas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, bindparam, cast, func, select, text, update
from sqlalchemy import exc as sa_exc

from incident_core.store.sql import schema
from incident_core.store.sql.errors import translate_errors
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.queries import PG_APPEND_LOCK
from incident_core.store.sql.slim import checksum, lift
from incident_core.store.sql.store import SqlEventStore

__all__ = ["migrate"]

E = schema.events
M = schema.meta


def _to_2(conn: Connection) -> None:
    """Schema 2: causation and correlation ids as indexed columns; an event-type index."""
    for column in ("causation_id", "correlation_id"):  # constant DDL: no such SQLAlchemy construct
        conn.execute(text(f"ALTER TABLE incident_events ADD COLUMN {column} TEXT"))
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        def field(key: str) -> object:
            return func.jsonb_extract_path_text(cast(E.c.metadata, JSONB), key)
    else:
        def field(key: str) -> object:
            return func.json_extract(E.c.metadata, f"$.{key}")
    conn.execute(update(E).values(causation_id=field("causation_id"),
                                  correlation_id=field("correlation_id")))
    for name, column in (("incident_events_causation", "causation_id"),
                         ("incident_events_correlation", "correlation_id"),
                         ("incident_events_type", "event_type, position")):
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON incident_events ({column})"))


_PAGE = 5000


def _to_3(conn: Connection) -> None:
    """Schema 3: ids lifted out of the metadata JSON and stored once, partial indexes, a
    checksum per event. Every row is rewritten in place (positions and ids kept)."""
    for column, kind in (("command_id", "TEXT"), ("checksum", "BIGINT")):
        conn.execute(text(f"ALTER TABLE incident_events ADD COLUMN {column} {kind}"))
    for name in schema.OLD_EVENT_INDEXES:  # constant DDL: full indexes become partial ones
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    read = (select(E.c.position, E.c.event_id, E.c.aggregate_id, E.c.aggregate_type,
                   E.c.event_type, E.c.version, E.c.recorded_at, E.c.data, E.c.metadata,
                   E.c.schema_version)
            .where(E.c.position > bindparam("after")).order_by(E.c.position).limit(_PAGE))
    write = (update(E).where(E.c.position == bindparam("at"))
             .values({c: bindparam(f"new_{c}") for c in _REWRITTEN}))
    after = 0
    while rows := conn.execute(read, {"after": after}).all():
        conn.execute(write, [_slim(row) for row in rows])
        after = rows[-1][0]
    schema.for_dialect(conn.dialect.name)
    for index in schema.EVENT_INDEXES:
        index.create(conn, checkfirst=True)


_REWRITTEN = ("metadata", "command_id", "causation_id", "correlation_id", "checksum")


def _slim(row: Any) -> dict[str, Any]:
    position, event_id, *_rest, metadata, schema_version = row
    stored, columns = lift(event_id, json.loads(metadata))
    values = (*row[:8], stored, schema_version, *columns)
    new = dict(zip(_REWRITTEN, (stored, *columns, checksum(*values)), strict=True))
    return {"at": position, **{f"new_{k}": v for k, v in new.items()}}


_STEPS: dict[int, Callable[[Connection], None]] = {1: _to_2, 2: _to_3}


def migrate(store: SqlEventStore) -> int:
    """Bring a writable store to SCHEMA_VERSION; return the version it had."""
    found = store.schema_version
    if found >= SCHEMA_VERSION or store.read_only:
        return found
    try:
        with store._write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(PG_APPEND_LOCK)))
            stmt = select(M.c.value).where(M.c.key == "schema_version")
            found = version = int(conn.execute(stmt).scalar_one())
            while version < SCHEMA_VERSION:
                _STEPS[version](conn)
                version += 1
            conn.execute(update(M).where(M.c.key == "schema_version").values(value=str(version)))
    except (sa_exc.SQLAlchemyError, store.dbapi.Error) as exc:
        raise translate_errors(exc) from exc
    store.schema_version = SCHEMA_VERSION
    return found
