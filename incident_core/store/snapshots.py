"""Time-travel reads of a store: projection row snapshots and a few grouped queries.

Row snapshots (`SnapshotShelf`) are the periodic projection checkpoints of as-of views, kept
per projection *code signature* (a snapshot made by other projection code is never used),
in *segments*: a **full** snapshot (every row after the events up to its position) followed
by **deltas** (only the rows changed since the previous snapshot of the segment, and the
keys removed). Rows as of a delta are its segment's full rows with each delta laid over
them in order; one query reads the whole chain (the primary key (name, signature,
position) is its index). Rows are packed by column (one JSON list per column, compressed):
decoding is a few big lists, not one small list per row.

A delta is kept only when it continues its segment exactly (the latest snapshot before it
is the one the fold started from or saved last, in the same segment); a chain that does
not hold together is never read. In a writable SQL store snapshots live in their own side
table, `incident_row_snapshots` (created on first use, outside the command path; a table
of the older, delta-less format is dropped and made again: snapshots are a cache of the
log); in a memory store or a read-only one they live in the process. Everything else here
only reads, through indexed, paged queries.
"""

from __future__ import annotations

import json
import threading
import weakref
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any

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
from sqlalchemy import exc as sa_exc

from incident_core.envelope import RecordedEvent
from incident_core.ports import EventFilter, EventStore, StreamInfo
from incident_core.store.sql.errors import translate_errors
from incident_core.store.sql.inspector_reads import glob_to_like
from incident_core.store.sql.schema import events as E
from incident_core.store.sql.store import SqlEventStore
from incident_core.store.sql.times import time_text
from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["FORMAT", "MAX_BYTES", "MAX_SEGMENTS", "SnapshotShelf", "schema_version_counts",
           "stream_count_as_of", "streams_as_of", "type_sample"]

MAX_SEGMENTS = 64  # per projection; past this every other segment is dropped
MAX_BYTES = 256_000_000  # per projection, compressed: the same thinning past this size
FORMAT = "3"  # of the packed rows; part of the key, so other formats are never read

snapshots = Table(
    "incident_row_snapshots", MetaData(),
    Column("name", Text, primary_key=True),
    Column("signature", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("base", BigInteger, nullable=True),  # a delta's full snapshot; NULL: full
    Column("row_count", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

Rows = list[dict[str, Any]]
Keyed = dict[str, dict[str, Any]]
Entry = tuple[int, int | None, bytes]  # position, base, data
_local: weakref.WeakKeyDictionary[EventStore, dict[tuple[str, str], dict[int, Entry]]] = (
    weakref.WeakKeyDictionary())
_local_lock = threading.Lock()


def _pack(rows: Rows, removed: Sequence[str] = ()) -> bytes:
    """Column names, then one list per column, then the removed keys; compressed."""
    columns = list(rows[0]) if rows else []
    table = [columns, [[row.get(c) for row in rows] for c in columns], list(removed)]
    return zlib.compress(json.dumps(table, separators=(",", ":")).encode(), 1)


def _unpack_into(data: bytes, key: str, rows: Keyed) -> None:
    """Lay packed rows over `rows` (by key), then drop the removed keys."""
    columns, values, removed = json.loads(zlib.decompress(data))
    if columns:
        keys = map(str, values[columns.index(key)])
        # Our own packing: every column list has one value per row (no strict checks on
        # the hot path, a third of the time).
        made = map(dict, map(zip, repeat(columns), zip(*values)))  # noqa: B905
        rows.update(zip(keys, made))  # noqa: B905
    for gone in removed:
        rows.pop(gone, None)


def _chain(entries: Sequence[Entry]) -> Sequence[Entry] | None:
    """The entries from the last one back to its full snapshot, if they hold together
    (`entries` in position order, ending with the wanted one)."""
    if not entries:
        return None
    base = entries[-1][1]
    first = entries[-1][0] if base is None else base
    chain = [e for e in entries if e[0] >= first]
    ok = chain[0][0] == first and chain[0][1] is None and all(
        e[1] == first for e in chain[1:])
    return chain if ok else None


def _continues(last: tuple[int, int | None] | None, base: int, previous: int) -> bool:
    """Whether a delta on segment `base` may follow `previous`, given the latest snapshot
    at or before the delta's position (position, base): it must be `previous` (so none is
    at the delta's own position), of the same segment."""
    if last is None:
        return False
    position, last_base = last
    return position == previous and (position == base if last_base is None
                                      else last_base == base)


def _thinned(entries: dict[int, tuple[int | None, int]]) -> list[int]:
    """The positions to drop: deltas whose full snapshot is gone, and while more than
    MAX_SEGMENTS segments or MAX_BYTES are kept, every other segment (oldest first)."""
    fulls = {p for p, (b, _n) in entries.items() if b is None}
    sizes: dict[int, int] = defaultdict(int)
    drop = []
    for position, (base, size) in entries.items():
        segment = position if base is None else base
        if segment in fulls:
            sizes[segment] += size
        else:
            drop.append(position)
    if len(sizes) > MAX_SEGMENTS or sum(sizes.values()) > MAX_BYTES:
        gone = set(sorted(sizes)[1::2])
        drop += [p for p, (b, _n) in entries.items() if (p if b is None else b) in gone]
    return drop


def _current_table(conn: Connection) -> bool:
    return bool(conn.dialect.has_table(conn, snapshots.name)) and "base" in {
        c["name"] for c in inspect(conn).get_columns(snapshots.name)}


@contextmanager
def _sql_errors() -> Iterator[None]:
    try:
        yield
    except sa_exc.SQLAlchemyError as exc:
        raise translate_errors(exc) from exc


class SnapshotShelf:
    """The row snapshots of one store's projections."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._sql = store if isinstance(store, SqlEventStore) and not store.read_only else None
        self._has_table: bool | None = None

    def _local(self) -> dict[tuple[str, str], dict[int, Entry]]:
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
        with _sql_errors(), self._sql.engine.connect() as conn:
            if not self._table_exists(conn):
                return []
            stmt = (select(snapshots.c.position).where(snapshots.c.name == name,
                                                       snapshots.c.signature == signature)
                    .order_by(snapshots.c.position))
            return [int(p) for p in conn.execute(stmt).scalars()]

    def segment_at(self, name: str, signature: str, position: int) -> int | None:
        """If a snapshot is kept at `position`, the position of its segment's full one."""
        if self._sql is None:
            entry = self._local().get((name, signature), {}).get(position)
            return None if entry is None else entry[1] or position
        t = snapshots.c
        stmt = select(func.coalesce(t.base, t.position)).where(
            t.name == name, t.signature == signature, t.position == position)
        with _sql_errors(), self._sql.engine.connect() as conn:
            if not self._table_exists(conn):
                return None
            found = conn.execute(stmt).scalar()
        return None if found is None else int(found)

    def nearest(self, name: str, signature: str, position: int,
                key: str) -> tuple[int, int, Keyed] | None:
        """The latest snapshot at or before `position`: (its position, its segment's full
        snapshot position, its rows by `key`: the full rows with the deltas laid over)."""
        chain = _chain(self._entries(name, signature, position))
        if chain is None:
            return None
        rows: Keyed = {}
        for _position, _base, data in chain:
            _unpack_into(data, key, rows)
        return chain[-1][0], chain[0][0], rows

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
        with _sql_errors(), self._sql.engine.connect() as conn:
            if not self._table_exists(conn):
                return []
            return [(int(p), None if b is None else int(b), bytes(d))
                    for p, b, d in conn.execute(stmt)]

    def save(self, name: str, signature: str, position: int, rows: Rows, *,
             base: int | None = None, removed: Sequence[str] = (),
             previous: int = 0) -> bool:
        """Keep a full snapshot (`base` None) or a delta of segment `base` following the
        snapshot at `previous`; drop those of other code signatures and thin out old
        segments. False: the delta does not continue its segment (nothing kept)."""
        entry: Entry = (position, base, _pack(rows, removed))
        if self._sql is None:
            return self._save_local(name, signature, entry, previous)
        with self._sql.transaction() as tx:
            assert isinstance(tx, SqlTransaction)
            return self._save_sql(tx.conn, name, signature, entry, len(rows), previous)

    def _save_local(self, name: str, signature: str, entry: Entry, previous: int) -> bool:
        position, base, _data = entry
        with _local_lock:
            shelves = _local.setdefault(self.store, {})
            for key in [k for k in shelves if k[0] == name and k[1] != signature]:
                del shelves[key]
            shelf = shelves.setdefault((name, signature), {})
            if base is not None:
                last = max((p for p in shelf if p <= position), default=None)
                if not _continues(None if last is None else (last, shelf[last][1]), base,
                                  previous):
                    return False
            shelf.setdefault(position, entry)
            for old in _thinned({p: (e[1], len(e[2])) for p, e in shelf.items()}):
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
            if not _continues(None if last is None else (int(last[0]), last[1]), base,
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
        drop = _thinned(sizes)
        if drop:
            segments = sorted({p if b is None else b for p, (b, _n) in sizes.items()
                               if p in drop})
            conn.execute(delete(snapshots).where(t.name == name, or_(
                t.position.in_(drop), t.base.in_(segments))))


# -- grouped reads ------------------------------------------------------------------------

def schema_version_counts(store: EventStore) -> dict[tuple[str, int], int]:
    """How many stored events there are of each (event type, schema version)."""
    if isinstance(store, SqlEventStore):
        stmt = (select(E.c.event_type, E.c.schema_version, func.count())
                .group_by(E.c.event_type, E.c.schema_version))
        with _sql_errors(), store.engine.connect() as conn:
            return {(str(t), int(v)): int(n) for t, v, n in conn.execute(stmt)}
    counts: Counter[tuple[str, int]] = Counter()
    for batch in store.iter_events():
        counts.update((e.event_type, e.schema_version) for e in batch)
    return dict(counts)


def type_sample(store: EventStore, event_type: str, schema_version: int | None,
                limit: int) -> list[RecordedEvent]:
    """The first `limit` stored events of a type (and schema version), by the type index."""
    if isinstance(store, SqlEventStore) and schema_version is not None:
        reads = store.reads  # this schema's columns (schema 3: the lifted ids too)
        stmt = (reads.select.where(E.c.event_type == event_type,
                                   E.c.schema_version == schema_version)
                .order_by(E.c.position).limit(limit))
        with _sql_errors(), store.engine.connect() as conn:
            return list(map(reads.from_row, conn.execute(stmt)))
    wanted = EventFilter(event_types=(event_type,))
    out: list[RecordedEvent] = []
    after = 0
    while len(out) < limit:
        page = store.read_events(after_position=after, limit=1000, filter=wanted)
        out += [e for e in page if schema_version in (None, e.schema_version)]
        if len(page) < 1000:
            break
        after = page[-1].position
    return out[:limit]


def _as_of_where(position: int, aggregate_type: str | None, pattern: str | None) -> Any:
    """The events up to `position` of the streams the filter keeps (the store's rule)."""
    conditions = [E.c.position <= position]
    if aggregate_type:
        conditions.append(E.c.aggregate_type == aggregate_type)
    if pattern:
        conditions.append(E.c.aggregate_id.ilike(glob_to_like(pattern), escape="\\"))
    return and_(*conditions)


def _memory_streams_as_of(store: EventStore, position: int, aggregate_type: str | None,
                          pattern: str | None) -> dict[str, StreamInfo]:
    kept = {s.aggregate_id for s in store.streams(aggregate_type=aggregate_type,
                                                  pattern=pattern)}
    found: dict[str, StreamInfo] = {}
    for batch in store.iter_events(up_to=position):
        for e in batch:
            if e.aggregate_id in kept:
                old = found.get(e.aggregate_id)
                found[e.aggregate_id] = StreamInfo(
                    e.aggregate_id, e.aggregate_type, e.version,
                    (old.event_count if old else 0) + 1, e.recorded_at_text, e.position)
    return found


def streams_as_of(store: EventStore, position: int, *, after_id: str | None = None,
                  limit: int = 500, aggregate_type: str | None = None,
                  pattern: str | None = None) -> list[StreamInfo]:
    """The streams as they stood after `position`: a keyset page ordered by aggregate id
    (walked through the (aggregate_id, version) index on SQL stores), filtered by
    aggregate type and id pattern as `EventStore.streams` filters."""
    if isinstance(store, SqlEventStore):
        stmt = (select(E.c.aggregate_id, func.min(E.c.aggregate_type), func.max(E.c.version),
                       func.count(), func.max(E.c.recorded_at), func.max(E.c.position))
                .where(_as_of_where(position, aggregate_type, pattern),
                       E.c.aggregate_id > (after_id or ""))
                .group_by(E.c.aggregate_id).order_by(E.c.aggregate_id).limit(limit))
        with _sql_errors(), store.engine.connect() as conn:
            return [StreamInfo(str(a), str(t), int(v), int(n), time_text(at), int(p))
                    for a, t, v, n, at, p in conn.execute(stmt)]
    found = _memory_streams_as_of(store, position, aggregate_type, pattern)
    ids = sorted(i for i in found if after_id is None or i > after_id)
    return [found[i] for i in ids[:limit]]


def stream_count_as_of(store: EventStore, position: int, *,
                       aggregate_type: str | None = None, pattern: str | None = None) -> int:
    """How many streams (the filter keeps) had an event at or before `position`."""
    if isinstance(store, SqlEventStore):
        stmt = select(func.count(func.distinct(E.c.aggregate_id))).where(
            _as_of_where(position, aggregate_type, pattern))
        with _sql_errors(), store.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())
    return len(_memory_streams_as_of(store, position, aggregate_type, pattern))
