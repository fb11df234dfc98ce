"""A write transaction's projection rows: read by key (from what the transaction wrote or
the single writer remembers, see `writer_cache.py`, else from the table), written in bulk
with one prepared upsert, deleted by key; what is written is noted for the writer's
memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from incident_core.projections.definition import ProjectionSpec
from incident_core.store.sql.writer_cache import FORGOTTEN, Changes, Committed

if TYPE_CHECKING:
    from incident_core.store.sql.core import SqlStoreCore

__all__ = ["RowsTransaction", "delete_rows", "get_rows", "put_rows"]


class RowsTransaction(Protocol):
    """What these functions use of the SQL write transaction."""

    store: SqlStoreCore
    changes: Changes

    @property
    def conn(self) -> Connection: ...

    @property
    def cursor(self) -> Any: ...

    def memory(self) -> Committed | None: ...


def get_rows(tx: RowsTransaction, spec: ProjectionSpec,
             keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    memory = tx.memory()
    if memory is not None:
        keys = _remembered(tx, memory, spec.name, keys, found)
        if not keys:
            return found
    store = tx.store
    if len(keys) == 1:  # the common case of a single command: a prepared lookup
        prepared = store.prepared(f"row:{spec.name}", store.row_statements(spec)[3])
        cursor = prepared.run(tx.cursor, {"key": keys[0]})
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            found[str(row[names.index(spec.key)])] = dict(zip(names, row, strict=True))
        return found
    stmt = store.row_statements(spec)[0]
    for start in range(0, len(keys), 500):
        for row in tx.conn.execute(stmt, {"keys": list(keys[start:start + 500])}):
            mapping = dict(row._mapping)
            found[mapping[spec.key]] = mapping
    return found


def _remembered(tx: RowsTransaction, memory: Committed, name: str, keys: Sequence[str],
                found: dict[str, dict[str, Any]]) -> list[str]:
    """Rows this transaction wrote or the writer remembers, put in `found` (copies); the
    keys of those that must be read."""
    mine, theirs = tx.changes.rows, memory.rows
    missing = []
    for key in keys:
        row = mine.get((name, key), FORGOTTEN)
        if row is FORGOTTEN:
            row = theirs.get((name, key), FORGOTTEN)
            if row is FORGOTTEN:
                missing.append(key)
                continue
        if row is not None:
            found[key] = dict(row)
    return missing


def put_rows(tx: RowsTransaction, spec: ProjectionSpec, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    store = tx.store
    store.prepared(f"upsert:{spec.name}", store.row_statements(spec)[1]).run_many(tx.cursor,
                                                                                rows)
    changes = tx.changes
    if changes.tracking and store.sql_dialect.single_writer:
        kinds = _kinds(spec)
        for row in rows:
            changes.put_row((spec.name, str(row[spec.key])), row, kinds)


_KINDS: dict[str, tuple[ProjectionSpec, list[tuple[str, str]]]] = {}


def _kinds(spec: ProjectionSpec) -> list[tuple[str, str]]:
    """(column, kind) of a projection's table, made once per spec."""
    found = _KINDS.get(spec.name)
    if found is None or found[0] is not spec:
        found = _KINDS[spec.name] = (spec, [(c.name, c.kind) for c in spec.columns])
    return found[1]


def delete_rows(tx: RowsTransaction, spec: ProjectionSpec, keys: Sequence[str]) -> None:
    if keys:
        tx.conn.execute(tx.store.row_statements(spec)[2], [{"key": k} for k in keys])
        for key in keys:
            tx.changes.put_row((spec.name, key), None, ())
