"""Row lineage in SQL: the `incident_row_lineage` table in the slim format of
`lineage_format` (created on first use in stores made before it existed, read as empty while
absent), written by the projector's transaction and read by indexed lookups joined with the
events they name. Entries are filed under the id of their lineage's name
(`incident_lineage_names`): a rebuild's promote moves a name, and the entries it replaced are
deleted later, GC_BATCH per lineage write, so no write lock is held for their size.
A store holding the old `incident_lineage` table is read as it is (a read-only open writes
nothing) and converted by its first lineage write, in that transaction (`lineage_legacy`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update

from incident_core.ports.values import LineageEntry
from incident_core.store.sql import lineage_legacy as legacy
from incident_core.store.sql import schema
from incident_core.store.sql.lineage_format import LINEAGE_DEPTH, Encoder, Last, Stored, fold
from incident_core.store.sql.queries import CP, E, has_table
from incident_core.store.sql.times import time_text

if TYPE_CHECKING:
    from incident_core.store.sql.core import SqlStoreCore
    from incident_core.store.sql.transaction import SqlTransaction
    from incident_core.store.sql.writer_cache import Committed

__all__ = ["changed_at", "clear", "history", "record", "rename"]

L = schema.lineage
N = schema.lineage_names
GC_BATCH = 5000  # entries of a cleared lineage deleted per later lineage write
_UPSERTS: dict[str, Any] = {}
_SELECT = (select(N.c.name, L.c.row_key, L.c.position, L.c.depth, L.c.change, L.c.before,
                  E.c.event_id, E.c.event_type, E.c.recorded_at, E.c.version)
           .select_from(L).join(N, N.c.id == L.c.projection)
           .join(E, E.c.position == L.c.position))
_LAST = (select(L.c.depth, L.c.crc)
         .where(L.c.projection == bindparam("projection"), L.c.row_key == bindparam("key"),
                L.c.position < bindparam("position"))
         .order_by(L.c.position.desc()).limit(1))
_ID = select(N.c.id).where(N.c.name == bindparam("name"))
_GARBAGE: WeakSet[SqlStoreCore] = WeakSet()  # stores that may hold cleared entries


def _ready(tx: SqlTransaction) -> None:
    """Create the tables (and indexes) if they are missing, converting an old-format table
    into them. Once a transaction has seen them (committed), the store stops asking (a
    creating transaction may still roll back)."""
    store = tx.store
    if not store.lineage_ready:
        tx.flush()
        for table in (N, L):
            if not has_table(tx.conn, table.name):
                table.create(tx.conn)
        if has_table(tx.conn, legacy.OLD.name):
            tx.changes.stop()
            legacy.convert(tx.conn, lambda rows: _insert(tx, rows))
        else:
            store.lineage_ready = True
            _GARBAGE.add(store)  # left by an earlier process, perhaps


def _id(tx: SqlTransaction, name: str) -> int:
    """The id entries filed under `name` carry (a new one if there is none); remembered by
    the single writer (a name keeps its id until it is cleared or renamed)."""
    known = tx.changes.lineage_ids.get(name)
    if known is None:
        memory = tx.memory()
        known = None if memory is None else memory.lineage_ids.get(name)
    if known is not None:
        return known
    found = tx.store.prepared("lineage_id", _ID).run(tx.cursor, {"name": name}).fetchone()
    if found is None:
        tx.conn.execute(insert(N).values(name=name))
        found = tx.store.prepared("lineage_id", _ID).run(tx.cursor, {"name": name}).fetchone()
    if tx.changes.tracking:
        tx.changes.lineage_ids[name] = int(found[0])
    return int(found[0])


def _insert(tx: SqlTransaction, rows: list[dict[str, Any]]) -> None:
    """Store encoded rows (`projection`: the name, replaced by its id)."""
    ids: dict[str, int] = {}
    for row in rows:
        name = row["projection"]
        row["projection"] = ids[name] if name in ids else ids.setdefault(name, _id(tx, name))
    store = tx.store
    statement = _UPSERTS.get(store.dialect)  # built once: building an upsert is costly
    if statement is None:
        statement = _UPSERTS[store.dialect] = store.upsert(L, ["projection", "position"])
    store.prepared("row_lineage_upsert", statement).run_many(tx.cursor, rows)


def record(tx: SqlTransaction, entries: Sequence[dict[str, Any]]) -> None:
    if not entries:
        return
    _ready(tx)
    if tx.store in _GARBAGE:
        _collect(tx)
    encoder = Encoder()
    first = min(e["position"] for e in entries)
    ids: dict[str, int] = {}
    memory = tx.memory()
    for e in entries:  # the latest stored entry of each row this batch changes
        key = (e["projection"], e["row_key"])
        if key not in encoder.last:
            pid = ids[key[0]] if key[0] in ids else ids.setdefault(key[0], _id(tx, key[0]))
            encoder.last[key] = _last(tx, memory, pid, key[1], first)
    for key in [k for k, v in encoder.last.items() if v.depth < 0]:
        del encoder.last[key]
    rows = [encoder.row(e) for e in entries]
    _insert(tx, rows)
    if tx.changes.tracking:  # what the next write of these rows starts from
        for e in entries:
            name, key = e["projection"], e["row_key"]
            tx.changes.put_last((ids[name], key), (e["position"], encoder.last[name, key]))


def _last(tx: SqlTransaction, memory: Committed | None, pid: int, key: str,
          first: int) -> Last:
    """The latest stored entry of a row before position `first` (depth -1: none), from
    this transaction's changes or the writer's `memory` when they know it."""
    known = tx.changes.lineage_last.get((pid, key))
    if known is None and memory is not None:
        known = memory.lineage_last.get((pid, key))
    if known is not None and known[0] < first:
        return known[1]
    last = tx.store.prepared("row_lineage_last", _LAST)
    found = last.run(tx.cursor, {"projection": pid, "key": key, "position": first}).fetchone()
    return Last(-1, 0) if found is None else Last(*found)


def _collect(tx: SqlTransaction) -> None:
    """Delete up to GC_BATCH entries of a cleared lineage (its id, once they are gone)."""
    conn = tx.conn
    found = conn.execute(select(N.c.id).where(N.c.name.is_(None)).limit(1)).first()
    if found is None:
        _GARBAGE.discard(tx.store)
        return
    batch = (select(L.c.row_key, L.c.position).where(L.c.projection == found[0])
             .limit(GC_BATCH))
    done = conn.execute(delete(L).where(
        L.c.projection == found[0], tuple_(L.c.row_key, L.c.position).in_(batch))).rowcount
    if done < GC_BATCH:
        tx.changes.stop()  # the id may be given to another name
        conn.execute(delete(N).where(N.c.id == found[0]))


def clear(tx: SqlTransaction, projection: str) -> None:
    """The name no longer names its entries (at once); they are deleted later, in batches."""
    tx.changes.stop()  # names and ids part
    tx.flush()
    _ready(tx)
    tx.conn.execute(update(N).where(N.c.name == projection).values(name=None))
    _GARBAGE.add(tx.store)


def rename(tx: SqlTransaction, old: str, new: str) -> None:
    """Moves the name: constant time, however many entries there are."""
    clear(tx, new)
    tx.conn.execute(update(N).where(N.c.name == old).values(name=new))


def _stored(conn: Connection, stmt: Any) -> list[Stored]:
    return [Stored(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], time_text(r[8]), r[9])
            for r in conn.execute(stmt)]


def history(conn: Connection, projection: str, key: str) -> list[LineageEntry]:
    if has_table(conn, legacy.OLD.name):
        return legacy.history(conn, projection, key)
    if not has_table(conn, L.name):
        return []
    stmt = _SELECT.where(N.c.name == projection, L.c.row_key == key)
    return list(fold(_stored(conn, stmt.order_by(L.c.position)), from_start=True))


def changed_at(conn: Connection, position: int,
               projections: Sequence[str] | None) -> list[LineageEntry]:
    """By primary key: (projection, position) for each candidate projection (default:
    every name with a checkpoint, a small table), then each row's entries back to its
    latest whole row (at most LINEAGE_DEPTH + 1) to fold its before and after."""
    if projections is None:
        projections = [name for (name,) in conn.execute(select(CP.c.name))]
    if has_table(conn, legacy.OLD.name):
        return legacy.changed_at(conn, position, projections)
    if not has_table(conn, L.name):
        return []
    at = (select(N.c.name, L.c.projection, L.c.row_key).select_from(L)
          .join(N, N.c.id == L.c.projection)
          .where(N.c.name.in_(list(projections)), L.c.position == position)
          .order_by(N.c.name))
    out = []
    for _name, pid, key in conn.execute(at).all():
        window = LINEAGE_DEPTH + 2
        stmt = (_SELECT.where(L.c.projection == pid, L.c.row_key == key,
                              L.c.position <= position)
                .order_by(L.c.position.desc()).limit(window))
        rows = _stored(conn, stmt)[::-1]
        out += [e for e in fold(rows, from_start=len(rows) < window)
                if e.position == position]
    return out
