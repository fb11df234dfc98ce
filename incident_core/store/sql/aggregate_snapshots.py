"""Stored aggregate snapshots: the record every adapter keeps, and its SQL side, the
`incident_aggregate_snapshots` table (created on first write in stores made before it
existed, so no schema-version bump; read as empty while absent).

A snapshot is only ever used for the aggregate type and state-model fingerprint it was made
with (`incident_core.engine.aggregate_snapshots` decides both); saving one drops that aggregate's
snapshots made with another fingerprint, so a changed state model replaces them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select

from incident_core.ports import StoredSnapshot
from incident_core.store.sql import schema
from incident_core.store.sql.dialect import Dialect
from incident_core.store.sql.queries import MAX_VERSION, has_table
from incident_core.store.sql.stream_reads import compiled, cursor_of

__all__ = ["StoredSnapshot", "latest", "save", "versions"]

T = schema.aggregate_snapshots


_STALE = delete(T).where(T.c.aggregate_id == bindparam("aggregate_id"),
                        T.c.fingerprint != bindparam("fingerprint"))
_INSERTS: dict[Dialect, Any] = {}  # built once per dialect


def save(conn: Connection, dialect: Dialect, snapshot: StoredSnapshot, seen_tables: set[str],
         made_here: set[str]) -> None:
    """Record `snapshot` in the caller's transaction; drop the aggregate's stale ones.
    `seen_tables`: the store's tables known to exist (committed); `made_here`: the tables
    this transaction created (forgotten with it if it rolls back)."""
    if T.name not in seen_tables and T.name not in made_here:
        if has_table(conn, T.name):
            seen_tables.add(T.name)  # not made here: it was committed before
        else:
            T.create(conn)
            made_here.add(T.name)
    row = {"aggregate_id": snapshot.aggregate_id, "version": snapshot.version,
           "aggregate_type": snapshot.aggregate_type, "fingerprint": snapshot.fingerprint,
           "state": snapshot.state, "taken_at": snapshot.taken_at}
    conn.execute(_STALE, row)
    insert = _INSERTS.get(dialect)
    if insert is None:
        insert = _INSERTS[dialect] = dialect.insert(T).on_conflict_do_nothing()
    conn.execute(insert, row)


# The newest snapshot of (aggregate, type, fingerprint) at or before a version: one probe
# of the primary key (aggregate_id, version), on the DBAPI cursor (`compiled`).
_LATEST = (select(T.c.aggregate_id, T.c.aggregate_type, T.c.version, T.c.fingerprint,
                  T.c.state, T.c.taken_at)
           .where(T.c.aggregate_id == bindparam("aggregate_id"),
                  T.c.aggregate_type == bindparam("aggregate_type"),
                  T.c.fingerprint == bindparam("fingerprint"),
                  T.c.version <= bindparam("at"))
           .order_by(T.c.version.desc()).limit(1))


def latest(conn: Connection, aggregate_id: str, aggregate_type: str, fingerprint: str,
           at_version: int | None = None) -> StoredSnapshot | None:
    """The newest usable snapshot at or before `at_version` (any version if None)."""
    with cursor_of(conn) as cursor:
        row = compiled(_LATEST, conn.dialect).run(cursor, {
            "aggregate_id": aggregate_id, "aggregate_type": aggregate_type,
            "fingerprint": fingerprint, "at": MAX_VERSION if at_version is None else at_version,
        }).fetchone()
    return None if row is None else StoredSnapshot(*row)


def versions(conn: Connection, aggregate_ids: Sequence[str]) -> dict[str, int]:
    """The newest snapshot version of each of these aggregates that has one."""
    if not aggregate_ids:
        return {}
    stmt = (select(T.c.aggregate_id, func.max(T.c.version))
            .where(T.c.aggregate_id.in_(list(aggregate_ids))).group_by(T.c.aggregate_id))
    return {str(a): int(v) for a, v in conn.execute(stmt)}


def present(conn: Connection) -> bool:
    return has_table(conn, T.name)
