"""Upgrading a store's schema in place, on a writable open (never on a read-only one).

Each step runs in one write transaction that re-reads the version under the write lock, so
concurrent openers upgrade a store exactly once. A store read-only stays as it is: readers
know how to read older schemas.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, cast, func, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB

from incident_core.store import schema
from incident_core.store.base import SCHEMA_VERSION
from incident_core.store.sql import SqlEventStore, translate_errors
from incident_core.store.sql_queries import PG_APPEND_LOCK

__all__ = ["migrate"]

E = schema.events
M = schema.meta


def _to_2(conn: Connection) -> None:
    """Schema 2: causation and correlation ids as indexed columns; an event-type index."""
    for column in ("causation_id", "correlation_id"):  # constant DDL: no such SQLAlchemy construct
        conn.execute(text(f"ALTER TABLE incident_events ADD COLUMN {column} TEXT"))
    if conn.dialect.name == "postgresql":
        def field(key: str) -> object:
            return func.jsonb_extract_path_text(cast(E.c.metadata, JSONB), key)
    else:
        def field(key: str) -> object:
            return func.json_extract(E.c.metadata, f"$.{key}")
    conn.execute(update(E).values(causation_id=field("causation_id"),
                                  correlation_id=field("correlation_id")))
    for index in schema.EVENT_INDEXES:
        index.create(conn, checkfirst=True)


_STEPS: dict[int, Callable[[Connection], None]] = {1: _to_2}


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
