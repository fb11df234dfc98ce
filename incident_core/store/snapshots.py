"""Projection row snapshots: the periodic checkpoints of as-of views (`SnapshotShelf`).

They are kept per projection *code signature* (a snapshot made by other projection code is
never used), in *segments*: a **full** snapshot (every row after the events up to its
position) followed by **deltas** (only the rows changed since the previous snapshot of the
segment, and the keys removed). Rows as of a delta are its segment's full rows with each
delta laid over them in order; one query reads the whole chain (the primary key (name,
signature, position) is its index). How rows are packed and chains checked and thinned is
`incident_core.store.snapshot_packing`.

A delta is kept only when it continues its segment exactly (the latest snapshot before it
is the one the fold started from or saved last, in the same segment); a chain that does
not hold together is never read. In a writable SQL store snapshots live in their own side
table, `incident_row_snapshots` (created on first use, outside the command path; a table
of the older, delta-less format is dropped and made again: snapshots are a cache of the
log); in a memory store or a read-only one they live in the process.

The grouped reads time travel also uses (streams as of a position, schema-version counts,
type samples) are `incident_core.store.grouped_reads`, re-exported here.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    and_,
    delete,
    func,
    inspect,
    or_,
    select,
)

from incident_core.ports import EventStore
from incident_core.store.closed import closed_error
from incident_core.store.grouped_reads import (
    schema_version_counts,
    stream_count_as_of,
    streams_as_of,
    type_sample,
)
from incident_core.store.snapshot_packing import (
    FORMAT,
    MAX_BYTES,
    MAX_SEGMENTS,
    Entry,
    Keyed,
    Rows,
    chain,
    continues,
    pack,
    thinned,
    unpack_into,
)
from incident_core.store.sql.store import SqlEventStore
from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["FORMAT", "MAX_BYTES", "MAX_SEGMENTS", "Keyed", "SnapshotShelf",
           "schema_version_counts", "stream_count_as_of", "streams_as_of", "type_sample"]

snapshots = Table(
    "incident_row_snapshots", MetaData(),
    Column("name", Text, primary_key=True),
    Column("signature", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("base", BigInteger, nullable=True),  # a delta's full snapshot; NULL: full
    Column("row_count", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

_local: weakref.WeakKeyDictionary[EventStore, dict[tuple[str, str], dict[int, Entry]]] = (
    weakref.WeakKeyDictionary())
_local_lock = threading.Lock()


def _current_table(conn: Connection) -> bool:
    return bool(conn.dialect.has_table(conn, snapshots.name)) and "base" in {
        c["name"] for c in inspect(conn).get_columns(snapshots.name)}


class SnapshotShelf:
    """The row snapshots of one store's projections."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._sql = store if isinstance(store, SqlEventStore) and not store.read_only else None
        self._has_table: bool | None = None

    def _local(self) -> dict[tuple[str, str], dict[int, Entry]]:
        if self.store.closed:  # kept in the process, but closed means closed
            raise closed_error(self.store.target)
        with _local_lock:
            return _local.setdefault(self.store, {})

    def _table_exists(self, conn: Connection) -> bool:
        """Whether the table is there in this format (an older one counts as absent)."""
        if self._has_table is None:
            self._has_table = _current_table(conn)
        return self._has_table

    def positions(self, name: str, signature: str) -> list[int]:
        if self._sql is None:
            return sorted(self._local().get((name, signature), {}))
        stmt = (select(snapshots.c.position).where(snapshots.c.name == name,
                                                   snapshots.c.signature == signature)
                .order_by(snapshots.c.position))
        with self._sql.reading() as conn:
            if not self._table_exists(conn):
                return []
            with conn.execute(stmt) as rows:
                return [int(p) for p in rows.scalars()]

    def segment_at(self, name: str, signature: str, position: int) -> int | None:
        """If a snapshot is kept at `position`, the position of its segment's full one."""
        if self._sql is None:
            entry = self._local().get((name, signature), {}).get(position)
            return None if entry is None else entry[1] or position
        t = snapshots.c
        stmt = select(func.coalesce(t.base, t.position)).where(
            t.name == name, t.signature == signature, t.position == position)
        with self._sql.reading() as conn:
            if not self._table_exists(conn):
                return None
            found = conn.execute(stmt).scalar()
        return None if found is None else int(found)

    def nearest(self, name: str, signature: str, position: int,
                key: str) -> tuple[int, int, Keyed] | None:
        """The latest snapshot at or before `position`: (its position, its segment's full
        snapshot position, its rows by `key`: the full rows with the deltas laid over)."""
        found = chain(self._entries(name, signature, position))
        if found is None:
            return None
        rows: Keyed = {}
        for _position, _base, data in found:
            unpack_into(data, key, rows)
        return found[-1][0], found[0][0], rows

    def _entries(self, name: str, signature: str, position: int) -> list[Entry]:
        """The snapshots from the full one of the latest segment up to `position`."""
        if self._sql is None:
            shelf = self._local().get((name, signature), {})
            latest = max((p for p in shelf if p <= position), default=None)
            if latest is None:
                return []
            first = shelf[latest][1] or latest
            return [shelf[p] for p in sorted(shelf) if first <= p <= position]
        t = snapshots.c
        mine = and_(t.name == name, t.signature == signature, t.position <= position)
        segment = (select(func.coalesce(t.base, t.position)).where(mine)
                   .order_by(t.position.desc()).limit(1).scalar_subquery())
        stmt = (select(t.position, t.base, t.data).where(mine, t.position >= segment)
                .order_by(t.position))
        with self._sql.reading() as conn:
            if not self._table_exists(conn):
                return []
            with conn.execute(stmt) as rows:
                return [(int(p), None if b is None else int(b), bytes(d)) for p, b, d in rows]

    def save(self, name: str, signature: str, position: int, rows: Rows, *,
             base: int | None = None, removed: Sequence[str] = (),
             previous: int = 0) -> bool:
        """Keep a full snapshot (`base` None) or a delta of segment `base` following the
        snapshot at `previous`; drop those of other code signatures and thin out old
        segments. False: the delta does not continue its segment (nothing kept)."""
        entry: Entry = (position, base, pack(rows, removed))
        if self._sql is None:
            return self._save_local(name, signature, entry, previous)
        with self._sql.transaction() as tx:
            assert isinstance(tx, SqlTransaction)
            return self._save_sql(tx.conn, name, signature, entry, len(rows), previous)

    def _save_local(self, name: str, signature: str, entry: Entry, previous: int) -> bool:
        position, base, _data = entry
        shelves = self._local()  # raises once the store is closed
        with _local_lock:
            for key in [k for k in shelves if k[0] == name and k[1] != signature]:
                del shelves[key]
            shelf = shelves.setdefault((name, signature), {})
            if base is not None:
                last = max((p for p in shelf if p <= position), default=None)
                if not continues(None if last is None else (last, shelf[last][1]), base,
                                  previous):
                    return False
            shelf.setdefault(position, entry)
            for old in thinned({p: (e[1], len(e[2])) for p, e in shelf.items()}):
                del shelf[old]
        return True

    def _ensure_table(self, conn: Connection) -> None:
        if not _current_table(conn):
            if conn.dialect.has_table(conn, snapshots.name):
                snapshots.drop(conn)  # the older format: a cache, made again from the log
            snapshots.create(conn)
        self._has_table = True

    def _save_sql(self, conn: Connection, name: str, signature: str, entry: Entry,
                  count: int, previous: int) -> bool:
        position, base, data = entry
        self._ensure_table(conn)
        t = snapshots.c
        if base is None:  # a new segment: other code's snapshots go
            conn.execute(delete(snapshots).where(t.name == name, t.signature != signature))
        else:  # one primary-key probe: the latest snapshot at or before the delta
            last = conn.execute(select(t.position, t.base).where(
                t.name == name, t.signature == signature, t.position <= position)
                .order_by(t.position.desc()).limit(1)).first()
            if not continues(None if last is None else (int(last[0]), last[1]), base,
                              previous):
                return False
        assert self._sql is not None  # only called for a writable SQL store
        insert = self._sql.sql_dialect.insert(snapshots)
        conn.execute(insert.on_conflict_do_nothing(), {
            "name": name, "signature": signature, "position": position, "base": base,
            "row_count": count, "data": data})
        if base is None:
            self._thin_sql(conn, name)
        return True

    @staticmethod
    def _thin_sql(conn: Connection, name: str) -> None:
        """When a segment starts (not at every delta: the sizes read is a scan)."""
        t = snapshots.c
        sizes = {int(p): (None if b is None else int(b), int(n)) for p, b, n in conn.execute(
            select(t.position, t.base, func.length(t.data)).where(t.name == name))}
        drop = thinned(sizes)
        if drop:
            segments = sorted({p if b is None else b for p, (b, _n) in sizes.items()
                               if p in drop})
            conn.execute(delete(snapshots).where(t.name == name, or_(
                t.position.in_(drop), t.base.in_(segments))))
