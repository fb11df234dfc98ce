"""Grouped reads of a store for time travel and the catalogue: the streams as they stood
at a position (a keyset page and a count, filtered as `EventStore.streams` filters), how
many events there are of each (event type, schema version), and a type's first events.
On a SQL store each is one indexed query, read through the store's `reading()` (closed after
`close()`, errors translated) with its cursor closed however the read ends (a damaged row
mid-page); on another adapter a pass over its reads."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, func, select

from incident_core.envelope import RecordedEvent
from incident_core.ports import EventFilter, EventStore, StreamInfo
from incident_core.store.sql.inspector_reads import glob_to_like
from incident_core.store.sql.schema import events as E
from incident_core.store.sql.store import SqlEventStore
from incident_core.store.sql.times import time_text

__all__ = ["schema_version_counts", "stream_count_as_of", "streams_as_of", "type_sample"]


def schema_version_counts(store: EventStore) -> dict[tuple[str, int], int]:
    """How many stored events there are of each (event type, schema version)."""
    if isinstance(store, SqlEventStore):
        stmt = (select(E.c.event_type, E.c.schema_version, func.count())
                .group_by(E.c.event_type, E.c.schema_version))
        with store.reading() as conn, conn.execute(stmt) as rows:
            return {(str(t), int(v)): int(n) for t, v, n in rows}
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
        with store.reading() as conn, conn.execute(stmt) as rows:
            return list(map(reads.from_row, rows))
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
        with store.reading() as conn, conn.execute(stmt) as rows:
            return [StreamInfo(str(a), str(t), int(v), int(n), time_text(at), int(p))
                    for a, t, v, n, at, p in rows]
    found = _memory_streams_as_of(store, position, aggregate_type, pattern)
    ids = sorted(i for i in found if after_id is None or i > after_id)
    return [found[i] for i in ids[:limit]]


def stream_count_as_of(store: EventStore, position: int, *,
                       aggregate_type: str | None = None, pattern: str | None = None) -> int:
    """How many streams (the filter keeps) had an event at or before `position`."""
    if isinstance(store, SqlEventStore):
        stmt = select(func.count(func.distinct(E.c.aggregate_id))).where(
            _as_of_where(position, aggregate_type, pattern))
        with store.reading() as conn:
            return int(conn.execute(stmt).scalar_one())
    return len(_memory_streams_as_of(store, position, aggregate_type, pattern))
