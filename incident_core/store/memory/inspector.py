"""The in-memory store's inspector queries (the `InspectorQueries` port)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from incident_core.envelope import RecordedEvent
from incident_core.ports import EventFilter, InspectorQueries, StreamInfo
from incident_core.ports.sorting import (
    EVENT_SORT_COLUMNS,
    STREAM_SORT_COLUMNS,
    Cursor,
    SortKey,
    event_sort_value,
    null_last,
    stream_sort_value,
)
from incident_core.projections.definition import ProjectionSpec
from incident_core.store.histogram import Fine, adaptive_histogram, span_of
from incident_core.store.memory.state import MemoryData, handed_all, matches

__all__ = ["MemoryInspector"]

T = TypeVar("T")


class MemoryInspector(InspectorQueries):
    """Browsing a memory store's `MemoryData`."""

    _data: MemoryData

    def event_count(self) -> int:
        return len(self._data.events)

    def streams(self, *, aggregate_type: str | None = None, pattern: str | None = None,
                after_id: str | None = None, limit: int | None = None) -> list[StreamInfo]:
        infos = sorted(self._data.stream_infos(aggregate_type, pattern),
                       key=lambda s: s.aggregate_id)
        if after_id is not None:
            infos = infos[bisect_right([s.aggregate_id for s in infos], after_id):]
        return infos if limit is None else infos[:limit]

    def stream_count(self, *, aggregate_type: str | None = None,
                     pattern: str | None = None) -> int:
        return len(self._data.stream_infos(aggregate_type, pattern))

    def stream(self, aggregate_id: str) -> StreamInfo | None:
        return self._data.streams.get(aggregate_id)

    def aggregate_types(self) -> list[str]:
        return sorted({s.aggregate_type for s in self._data.streams.values()})

    def event_types(self) -> list[str]:
        return sorted({e.event_type for e in self._data.events})

    def event_histogram(self, *, buckets: int = 60, aggregate_id: str | None = None,
                        since: str | None = None, until: str | None = None,
                        ) -> tuple[list[str], dict[str, list[int]]]:
        events = self._data.by_stream.get(aggregate_id, []) if aggregate_id else self._data.events

        def read(low: str | None, high: str | None, count: int) -> Fine | None:
            flt = EventFilter(since=low, until=high)
            stamps = [(datetime.fromisoformat(e.recorded_at_text).timestamp(), e.event_type)
                      for e in events if matches(e, flt)]
            if not stamps:
                return None
            start, width = span_of(min(s for s, _ in stamps), max(s for s, _ in stamps),
                                   count)
            counts: dict[str, list[int]] = {}
            for stamp, event_type in stamps:
                series = counts.setdefault(event_type, [0] * count)
                series[min(max(int((stamp - start) // width), 0), count - 1)] += 1
            return start, width, counts

        return adaptive_histogram(read, buckets, since, until)

    def read_events_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                           limit: int | None = None,
                           filter: EventFilter | None = None) -> list[RecordedEvent]:
        sort.check(EVENT_SORT_COLUMNS)
        rows = [e for e in self._data.events if matches(e, filter)]
        return handed_all(_keyset_page(
            rows, lambda e: (event_sort_value(e, sort.column), e.position),
            sort.descending, after, limit))

    def streams_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                       limit: int | None = None, aggregate_type: str | None = None,
                       pattern: str | None = None) -> list[StreamInfo]:
        sort.check(STREAM_SORT_COLUMNS)
        rows = self._data.stream_infos(aggregate_type, pattern)
        return _keyset_page(rows, lambda s: (stream_sort_value(s, sort.column), s.aggregate_id),
                            sort.descending, after, limit)

    def projection_rows_sorted(self, spec: ProjectionSpec, sort: SortKey, *,
                               after: Cursor | None = None,
                               limit: int | None = None) -> list[dict[str, Any]]:
        sort.check([c.name for c in spec.columns])
        rows = [dict(r) for r in self._data.tables.get(spec.name, {}).values()]
        page = _keyset_page(rows, lambda r: (r.get(sort.column), str(r[spec.key])),
                            sort.descending, after, limit, nullable=True)
        return page

    def lineage_events(self, projection: str, key: str, *,
                       until: int | None = None) -> list[RecordedEvent]:
        positions = self._data.lineage.get(projection, {}).get(key, ())
        events = self._data.events
        return handed_all(events[n - 1] for n in sorted(positions)
                          if until is None or n <= until)

    def lineage_start(self, projection: str) -> int | None:
        return self._data.lineage_starts.get(projection)


def _keyset_page(rows: list[T], key: Callable[[T], Cursor], descending: bool,
                 after: Cursor | None, limit: int | None, *, nullable: bool = False) -> list[T]:
    """The rows after the cursor `after` in (sort value, tiebreak) order."""
    def order(cursor: Cursor) -> Any:
        return null_last(*cursor) if nullable else cursor

    keyed = sorted(((order(key(r)), r) for r in rows), key=lambda kr: kr[0],
                   reverse=descending)
    if after is not None:
        mark = order(after)
        keyed = [kr for kr in keyed if (kr[0] < mark if descending else kr[0] > mark)]
    out = [r for _k, r in keyed]
    return out if limit is None else out[:limit]
