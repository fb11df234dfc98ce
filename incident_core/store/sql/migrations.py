"""Upgrading a store's schema in place, on a writable open (never on a read-only one).

Each step runs in one write transaction that re-reads the version under the write lock, so
concurrent openers upgrade a store exactly once. A store read-only stays as it is: readers
know how to read older schemas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, bindparam, select, table, text, update
from sqlalchemy import column as sql_column
from sqlalchemy import exc as sa_exc
from sqlalchemy.schema import CreateTable

from incident_core.envelope import canonical_time
from incident_core.errors import StoreError
from incident_core.store.sql import schema
from incident_core.store.sql.errors import translate_errors
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.migrations_lineage import to_5
from incident_core.store.sql.slim import checksum, lift, lift_type, row_checksum
from incident_core.store.sql.store import SqlEventStore
from incident_core.store.sql.times import stored_time

__all__ = ["migrate", "upgrade"]

E = schema.events
M = schema.meta


def _to_2(conn: Connection) -> None:
    """Schema 2: causation and correlation ids as indexed columns; an event-type index."""
    for column in ("causation_id", "correlation_id"):  # constant DDL: no such SQLAlchemy construct
        conn.execute(text(f"ALTER TABLE incident_events ADD COLUMN {column} TEXT"))
    read = (select(E.c.position, E.c.metadata).where(E.c.position > bindparam("after"))
            .order_by(E.c.position).limit(_PAGE))
    write = (update(E).where(E.c.position == bindparam("at"))
             .values(causation_id=bindparam("new_causation_id"),
                     correlation_id=bindparam("new_correlation_id")))
    after = 0
    while rows := conn.execute(read, {"after": after}).all():
        conn.execute(write, [_ids_of(position, metadata) for position, metadata in rows])
        after = rows[-1][0]
    for name, column in (("incident_events_causation", "causation_id"),
                         ("incident_events_correlation", "correlation_id"),
                         ("incident_events_type", "event_type, position")):
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON incident_events ({column})"))


def _ids_of(position: int, metadata: str) -> dict[str, Any]:
    """The causation and correlation ids in an event's metadata JSON (None where absent)."""
    values = json.loads(metadata)
    found = {key: values.get(key) for key in ("causation_id", "correlation_id")}
    return {"at": position, **{f"new_{k}": None if v is None else str(v)
                               for k, v in found.items()}}


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
    for index in schema.EVENT_INDEXES:
        index.create(conn, checkfirst=True)


_REWRITTEN = ("metadata", "command_id", "causation_id", "correlation_id", "checksum")


def _slim(row: Any) -> dict[str, Any]:
    position, event_id, *_rest, metadata, schema_version = row
    stored, columns = lift(event_id, json.loads(metadata))
    values = (*row[:8], stored, schema_version, *columns)
    new = dict(zip(_REWRITTEN, (stored, *columns, checksum(*values)), strict=True))
    return {"at": position, **{f"new_{k}": v for k, v in new.items()}}


_CONTENT = ("position", "event_id", "aggregate_id", "aggregate_type", "event_type", "version",
            "recorded_at", "data", "metadata", "schema_version", "command_id", "causation_id",
            "correlation_id")  # the checksum's order
_OLD = "incident_events_3"


def _to_4(conn: Connection) -> None:
    """Schema 4: `recorded_at` as integer microseconds, the command type lifted out of the
    metadata JSON (see store/sql/slim.py), the columns in a new physical order.
    SQLite cannot change a column's type, so the table is rebuilt (the same steps on every
    dialect): copied aside, dropped with its indexes and constraints, made again, and filled
    back page by page in position order (positions, ids, versions, data kept); then its
    indexes are made again. Checksums cover logical values (the time as text), so they hold
    as they are; a row whose time text was not in the store's form gets the canonical
    text's checksum, unless its checksum was already wrong (damage stays seen)."""
    conn.execute(text(f"CREATE TABLE {_OLD} AS SELECT * FROM incident_events"))  # constant
    conn.execute(text("DROP TABLE incident_events"))
    conn.execute(CreateTable(E))  # the table; its guards and other indexes below
    old = table(_OLD, *(sql_column(name) for name in (*_CONTENT, "checksum")))
    read = (select(*old.c).where(old.c.position > bindparam("after"))
            .order_by(old.c.position).limit(_PAGE))
    after = 0
    while rows := conn.execute(read, {"after": after}).all():
        conn.execute(E.insert(), [_row4(row) for row in rows])
        after = rows[-1][0]
    conn.execute(text(f"DROP TABLE {_OLD}"))
    for index in (*schema.GUARD_INDEXES, *schema.EVENT_INDEXES):  # the guards named indexes
        index.create(conn, checkfirst=True)
    _canonical_stream_times(conn)


def _canonical_stream_times(conn: Connection) -> None:
    """Streams' last times in the store's text form, as their events now read back (only a
    time written in another form, by an older import, changes)."""
    S = schema.streams
    read = (select(S.c.aggregate_id, S.c.last_recorded_at)
            .where(S.c.aggregate_id > bindparam("after")).order_by(S.c.aggregate_id)
            .limit(_PAGE))
    write = (update(S).where(S.c.aggregate_id == bindparam("key"))
             .values(last_recorded_at=bindparam("at")))
    after = ""
    while rows := conn.execute(read, {"after": after}).all():
        changed = [{"key": key, "at": at} for key, value in rows
                   if (at := _canonical_or_none(value)) not in (None, value)]
        if changed:
            conn.execute(write, changed)
        after = rows[-1][0]


def _canonical_or_none(value: str) -> str | None:
    try:
        return canonical_time(value)
    except ValueError:
        return None  # not a time: left for verify to report


def _row4(row: Any) -> dict[str, Any]:
    *content, stored = row
    new = dict(zip(_CONTENT, content, strict=True))
    try:
        new["recorded_at"] = stored_time(content[6])
    except (TypeError, ValueError, OverflowError):  # naive, garbled: changed outside Incident
        raise StoreError(f"cannot upgrade the store to schema 4: event #{content[0]} has "
                         f"recorded_at {content[6]!r}, not a time with a zone; the store "
                         "stays as it was (open it read-only, or fix that row)") from None
    new["metadata"], new["command_type"] = lift_type(content[8])  # same logical JSON
    if stored is None or row_checksum(content) != stored:
        new["checksum"] = stored  # missing or wrong already: left for verify to report
    else:
        new["checksum"] = row_checksum(new.values())
    return new


def _to_6(conn: Connection) -> None:
    """Schema 6: a checkpoint at the head may be stored as FOLLOWS (`checkpoint_writes`).
    Nothing to convert: every stored position stays valid, and one at the head becomes
    FOLLOWS when a command next moves it. The version is raised so that an older Incident,
    which would read FOLLOWS as position -1, refuses the store (`meta.check_meta`)."""
    del conn


_STEPS: dict[int, Callable[[Connection], None]] = {
    1: _to_2, 2: _to_3, 3: _to_4, 4: to_5, 5: _to_6}


def migrate(store: SqlEventStore) -> int:
    """Bring a writable store to SCHEMA_VERSION; return the version it had."""
    found = store.schema_version
    if found >= SCHEMA_VERSION or store.read_only:
        return found
    try:
        with store.write_engine.begin() as conn:
            store.sql_dialect.lock(conn)
            store.sql_dialect.complete_schema()
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


def upgrade(store: SqlEventStore) -> None:
    """`migrate` a store being opened; closed if that fails."""
    try:
        migrate(store)
    except BaseException:
        store.close()
        raise
