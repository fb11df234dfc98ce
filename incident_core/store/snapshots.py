"""Time-travel reads of a store: projection row snapshots and a few grouped queries.

Row snapshots (`SnapshotShelf`) are the periodic projection checkpoints of as-of views: the
complete rows of one projection after every event up to a position, kept per projection
*code signature* (a snapshot made by other projection code is never used). In a writable
SQL store they live in their own side table, `incident_row_snapshots` (created on first
use, outside the command path); in a memory store or a read-only one they live in the
process. Everything else here only reads, through indexed, paged queries.
"""

from __future__ import annotations

import json
import threading
import weakref
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
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
    select,
)
from sqlalchemy import exc as sa_exc

from incident_core.envelope import RecordedEvent
from incident_core.ports import EventFilter, EventStore, StreamInfo
from incident_core.store.sql.errors import translate_errors
from incident_core.store.sql.schema import events as E
from incident_core.store.sql.store import SqlEventStore
from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["FORMAT", "MAX_BYTES", "MAX_SNAPSHOTS", "SnapshotShelf", "schema_version_counts",
           "streams_as_of", "type_sample"]

MAX_SNAPSHOTS = 64  # per projection; past this every other one is dropped (K doubles)
MAX_BYTES = 256_000_000  # per projection, compressed: the same thinning past this size
FORMAT = "2"  # of the packed rows; part of the key, so other formats are never read

snapshots = Table(
    "incident_row_snapshots", MetaData(),
    Column("name", Text, primary_key=True),
    Column("signature", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("row_count", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

Rows = list[dict[str, Any]]
_local: weakref.WeakKeyDictionary[EventStore, dict[tuple[str, str], dict[int, bytes]]] = (
    weakref.WeakKeyDictionary())
_local_lock = threading.Lock()


def _pack(rows: Rows) -> bytes:
    """Columns once, then one list of values per row (no repeated keys), compressed."""
    columns = list(rows[0]) if rows else []
    table = [columns, [[row.get(c) for c in columns] for row in rows]]
    return zlib.compress(json.dumps(table, separators=(",", ":")).encode(), 1)


def _unpack(data: bytes) -> Rows:
    columns, values = json.loads(zlib.decompress(data))
    return [dict(zip(columns, row, strict=True)) for row in values]


def _thinned(sizes: dict[int, int]) -> list[int]:
    """The positions to drop (every other one, oldest first) while more than
    MAX_SNAPSHOTS or MAX_BYTES are kept."""
    kept = sorted(sizes)
    if len(kept) <= MAX_SNAPSHOTS and sum(sizes.values()) <= MAX_BYTES:
        return []
    return kept[1::2]


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

    def _local(self) -> dict[tuple[str, str], dict[int, bytes]]:
        with _local_lock:
            return _local.setdefault(self.store, {})

    def _table_exists(self, conn: Connection) -> bool:
        if self._has_table is None:
            self._has_table = bool(conn.dialect.has_table(conn, snapshots.name))
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

    def nearest(self, name: str, signature: str, position: int) -> tuple[int, Rows] | None:
        """The latest snapshot at or before `position`: (its position, its rows)."""
        if self._sql is None:
            shelf = self._local().get((name, signature), {})
            best = max((p for p in shelf if p <= position), default=None)
            return None if best is None else (best, _unpack(shelf[best]))
        with _sql_errors(), self._sql.engine.connect() as conn:
            if not self._table_exists(conn):
                return None
            stmt = (select(snapshots.c.position, snapshots.c.data)
                    .where(snapshots.c.name == name, snapshots.c.signature == signature,
                           snapshots.c.position <= position)
                    .order_by(snapshots.c.position.desc()).limit(1))
            found = conn.execute(stmt).first()
        return None if found is None else (int(found[0]), _unpack(bytes(found[1])))

    def save(self, name: str, signature: str, position: int, rows: Rows) -> None:
        """Keep a snapshot; drop those of other code signatures and thin out old ones."""
        data = _pack(rows)
        if self._sql is None:
            with _local_lock:
                shelves = _local.setdefault(self.store, {})
                for key in [k for k in shelves if k[0] == name and k[1] != signature]:
                    del shelves[key]
                shelf = shelves.setdefault((name, signature), {})
                shelf[position] = data
                for old in _thinned({p: len(d) for p, d in shelf.items()}):
                    del shelf[old]
            return
        with self._sql.transaction() as tx:
            assert isinstance(tx, SqlTransaction)
            self._save_sql(tx.conn, name, signature, position, len(rows), data)

    def _save_sql(self, conn: Connection, name: str, signature: str, position: int,
                  count: int, data: bytes) -> None:
        snapshots.create(conn, checkfirst=True)
        self._has_table = True
        conn.execute(delete(snapshots).where(snapshots.c.name == name,
                                             snapshots.c.signature != signature))
        assert self._sql is not None  # only called for a writable SQL store
        insert = self._sql.sql_dialect.insert(snapshots)
        conn.execute(insert.on_conflict_do_nothing(), {
            "name": name, "signature": signature, "position": position,
            "row_count": count, "data": data})
        kept = {int(p): int(n) for p, n in conn.execute(
            select(snapshots.c.position, func.length(snapshots.c.data))
            .where(snapshots.c.name == name))}
        drop = _thinned(kept)
        if drop:
            conn.execute(delete(snapshots).where(snapshots.c.name == name,
                                                 snapshots.c.position.in_(drop)))


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


def streams_as_of(store: EventStore, position: int, *, after_id: str | None = None,
                  limit: int = 500) -> list[StreamInfo]:
    """The streams as they stood after `position`: a keyset page ordered by aggregate id
    (walked through the (aggregate_id, version) index on SQL stores)."""
    if isinstance(store, SqlEventStore):
        stmt = (select(E.c.aggregate_id, func.min(E.c.aggregate_type), func.max(E.c.version),
                       func.count(), func.max(E.c.recorded_at), func.max(E.c.position))
                .where(and_(E.c.position <= position,
                            E.c.aggregate_id > (after_id or "")))
                .group_by(E.c.aggregate_id).order_by(E.c.aggregate_id).limit(limit))
        with _sql_errors(), store.engine.connect() as conn:
            return [StreamInfo(str(a), str(t), int(v), int(n), str(at), int(p))
                    for a, t, v, n, at, p in conn.execute(stmt)]
    found: dict[str, StreamInfo] = {}
    for batch in store.iter_events(up_to=position):
        for e in batch:
            old = found.get(e.aggregate_id)
            found[e.aggregate_id] = StreamInfo(
                e.aggregate_id, e.aggregate_type, e.version,
                (old.event_count if old else 0) + 1, e.recorded_at_text, e.position)
    ids = sorted(i for i in found if after_id is None or i > after_id)
    return [found[i] for i in ids[:limit]]
