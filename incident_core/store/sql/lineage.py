"""Row lineage in SQL: the narrow index `incident_lineage_index` (projection id, row key,
position) of the events custom-key handlers applied, written by the projector's transaction
with one executemany and no reads, and read joined with the events it names (see
`incident_core.engine.lineage`, which recomputes the values from the log).

Entries are filed under the id of their lineage's name (`incident_lineage_names`, which also
keeps from where the index is complete): a rebuild's promote moves a name, and the entries
it replaced are deleted later, GC_BATCH per lineage write, so no write lock is held for
their size. A schema-4 store opened read-only is read through its `incident_row_lineage`
(same key columns), which the 4 -> 5 migration turns into the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    bindparam,
    delete,
    null,
    select,
    tuple_,
    update,
)

from incident_core.store.sql import schema
from incident_core.store.sql.queries import E, has_table

if TYPE_CHECKING:
    from incident_core.store.sql.core import SqlStoreCore
    from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["OLD", "clear", "events", "mark", "record", "rename", "start"]

L = schema.lineage
N = schema.lineage_names
OLD = Table(  # schema 4's slim lineage: its key columns are the index's
    "incident_row_lineage", MetaData(),
    Column("projection", Integer, primary_key=True),
    Column("row_key", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("before", Text, nullable=True),
)
GC_BATCH = 5000  # entries of a cleared lineage deleted per later lineage write
_GARBAGE: WeakSet[SqlStoreCore] = WeakSet()  # stores that may hold cleared entries
_INSERTS: dict[str, tuple[Any, Any]] = {}


def _statements(store: SqlStoreCore) -> tuple[Any, Any]:
    """(name made if missing, entries added by name): built once per dialect."""
    found = _INSERTS.get(store.dialect)
    if found is None:
        dialect = store.sql_dialect
        name = (dialect.insert(N).values(name=bindparam("name"), start=0)
                .on_conflict_do_nothing(index_elements=["name"]))
        by_name = select(N.c.id, bindparam("row_key"), bindparam("position")).where(
            N.c.name == bindparam("projection"))
        entries = (dialect.insert(L).from_select(["projection", "row_key", "position"],
                                                 by_name)
                   .on_conflict_do_nothing(index_elements=["projection", "row_key",
                                                           "position"]))
        found = _INSERTS[store.dialect] = (name, entries)
    return found


def record(tx: SqlTransaction, entries: Sequence[tuple[str, str, int]]) -> None:
    """Add index entries: the names first (made, complete from the start, where missing:
    a lineage cleared in this transaction starts again), then one executemany."""
    if not entries:
        return
    store = tx.store
    if store in _GARBAGE:
        _collect(tx)
    name, add = _statements(store)
    names = dict.fromkeys(projection for projection, _, _ in entries)
    store.prepared("lineage_name", name).run_many(tx.cursor, [{"name": n} for n in names])
    store.prepared("lineage_add", add).run_many(tx.cursor, [
        {"projection": p, "row_key": k, "position": n} for p, k, n in entries])


_INCOMPLETE: dict[str, Any] = {}


def _incomplete(store: SqlStoreCore) -> Any:
    """The name made if missing, marked not complete unless it is: one statement, no read
    (every commit of a process that applies custom-key events with the lineage off)."""
    found = _INCOMPLETE.get(store.dialect)
    if found is None:
        stmt = store.sql_dialect.insert(N).values(name=bindparam("name"), start=null())
        found = _INCOMPLETE[store.dialect] = stmt.on_conflict_do_update(
            index_elements=["name"], set_={"start": null()}, where=N.c.start.is_not(None))
    return found


def mark(tx: SqlTransaction, projection: str, at: int | None) -> None:
    """The index is complete after `at` (kept if it is already set), or not at all."""
    store = tx.store
    if at is None:
        store.prepared("lineage_incomplete", _incomplete(store)).run(tx.cursor,
                                                                    {"name": projection})
        return
    tx.flush()
    conn = tx.conn
    found = conn.execute(select(N.c.start).where(N.c.name == projection)).first()
    if found is None:
        conn.execute(N.insert().values(name=projection, start=at))
    elif found[0] is None:
        conn.execute(update(N).where(N.c.name == projection).values(start=at))


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
        conn.execute(delete(N).where(N.c.id == found[0]))


def clear(tx: SqlTransaction, projection: str) -> None:
    """The name no longer names its entries (at once); they are deleted later, in batches."""
    tx.flush()
    tx.conn.execute(update(N).where(N.c.name == projection).values(name=None))
    _GARBAGE.add(tx.store)


def rename(tx: SqlTransaction, old: str, new: str) -> None:
    """Moves the name: constant time, however many entries there are."""
    clear(tx, new)
    tx.conn.execute(update(N).where(N.c.name == old).values(name=new))


def _table(conn: Connection) -> Table | None:
    """The index of this store's schema (schema 4's lineage while not migrated)."""
    if has_table(conn, L.name):
        return L
    return OLD if has_table(conn, OLD.name) else None


def events(conn: Connection, base: Select[Any], projection: str, key: str,
           until: int | None) -> Select[Any] | None:
    """`base` (a select of events) narrowed to those the index lists for one row, in
    position order; None when the store has no index."""
    table = _table(conn)
    if table is None or not has_table(conn, N.name):
        return None
    stmt = (base.join(table, table.c.position == E.c.position)
            .join(N, N.c.id == table.c.projection)
            .where(N.c.name == projection, table.c.row_key == key))
    if until is not None:
        stmt = stmt.where(E.c.position <= until)
    return stmt.order_by(E.c.position)


def start(conn: Connection, projection: str) -> int | None:
    """From where the index is complete (schema 4: from after its last break, see the
    migration; None where nothing says)."""
    if not has_table(conn, N.name):
        return None
    if "start" not in {c["name"] for c in _columns(conn)}:
        return _old_start(conn, projection)
    found = conn.execute(select(N.c.start).where(N.c.name == projection)).first()
    return None if found is None or found[0] is None else int(found[0])


def _columns(conn: Connection) -> list[Any]:
    from sqlalchemy import inspect

    return list(inspect(conn).get_columns(N.name))


def _old_start(conn: Connection, projection: str) -> int | None:
    """Schema 4: after the last entry that did not follow on from the row's previous one
    (its `before` set: lineage was off before it), else from the start."""
    if not has_table(conn, OLD.name):
        return None
    last = (select(OLD.c.position).join(N, N.c.id == OLD.c.projection)
            .where(N.c.name == projection, OLD.c.before.is_not(None))
            .order_by(OLD.c.position.desc()).limit(1))
    found = conn.execute(last).first()
    return 0 if found is None else int(found[0])

