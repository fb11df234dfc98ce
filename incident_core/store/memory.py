"""The in-memory adapter: plain lists and dicts, same contract as the SQL adapter.

A write transaction holds a mutex and buffers its changes in an overlay; commit publishes
them at once, rollback drops them, so readers only ever see committed state.
"""

from __future__ import annotations

import fnmatch
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import ConcurrencyError, ReadOnlyError, StoreError
from incident_core.ports import (
    EventFilter,
    EventStore,
    LineageEntry,
    StoredSnapshot,
    StoreTransaction,
    StreamInfo,
)
from incident_core.ports.sorting import (
    EVENT_SORT_COLUMNS,
    STREAM_SORT_COLUMNS,
    Cursor,
    SortKey,
    event_sort_value,
    null_last,
    stream_sort_value,
)
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.projections.definition import ProjectionSpec
from incident_core.store.histogram import Fine, adaptive_histogram, span_of

__all__ = ["MemoryEventStore"]

_GONE = object()
T = TypeVar("T")


def _matches(event: RecordedEvent, flt: EventFilter | None) -> bool:
    if flt is None:
        return True
    if flt.aggregate_id and event.aggregate_id != flt.aggregate_id:
        return False
    if flt.event_types and event.event_type not in flt.event_types:
        return False
    if flt.since and event.recorded_at_text < flt.since:
        return False
    if flt.until and event.recorded_at_text >= flt.until:
        return False
    if flt.correlation_id and event.metadata.get("correlation_id") != flt.correlation_id:
        return False
    if flt.text:
        from json import dumps
        return flt.text.lower() in dumps(event.data, separators=(",", ":")).lower()
    return True


def _id_matches(aggregate_id: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    if "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(aggregate_id.lower(), pattern.lower())
    return pattern.lower() in aggregate_id.lower()


class MemoryEventStore(EventStore):
    dialect = "memory"

    def __init__(self, target: str = "memory:", *, read_only: bool = False) -> None:
        super().__init__(target, read_only=read_only)
        self._write_lock = threading.Lock()
        self._changed = threading.Condition()
        self._events: list[RecordedEvent] = []
        self._by_stream: dict[str, list[RecordedEvent]] = {}
        self._by_id: dict[str, RecordedEvent] = {}
        self._streams: dict[str, StreamInfo] = {}
        self._tables: dict[str, dict[str, dict[str, Any]]] = {}
        self._signatures: dict[str, str] = {}
        self._checkpoints: dict[str, int] = {}
        self._parked: dict[tuple[str, int], ParkedStep] = {}
        self._saga_outcomes: list[SagaOutcome] = []
        # row lineage: projection → position → stored record (see incident_core.engine.lineage)
        self._lineage: dict[str, dict[int, dict[str, Any]]] = {}
        self._snapshots: dict[str, list[StoredSnapshot]] = {}  # by aggregate, oldest first
        self._meta: dict[str, str] = {}

    def meta(self) -> dict[str, str]:
        return dict(self._meta)

    def add_meta(self, values: Mapping[str, str]) -> dict[str, str]:
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        for key, value in values.items():
            self._meta.setdefault(key, value)
        return dict(self._meta)

    def projection_signatures(self) -> dict[str, str]:
        return dict(self._signatures)

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        with self._write_lock:
            tx = _MemoryTransaction(self)
            yield tx
            with self._changed:
                tx.publish()
                self._changed.notify_all()

    def head(self) -> int:
        return len(self._events)

    def event_count(self) -> int:
        return len(self._events)

    def read_events(self, *, after_position: int = 0, before_position: int | None = None,
                    limit: int | None = None, filter: EventFilter | None = None,
                    descending: bool = False) -> list[RecordedEvent]:
        events = self._events[after_position:before_position - 1 if before_position else None]
        ordered = reversed(events) if descending else iter(events)
        out = []
        for event in ordered:
            if _matches(event, filter):
                out.append(event)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def iter_events(self, *, after_position: int = 0, up_to: int | None = None,
                    batch_size: int = 5000) -> Iterator[list[RecordedEvent]]:
        end = len(self._events) if up_to is None else min(up_to, len(self._events))
        for start in range(after_position, end, batch_size):
            yield self._events[start:min(start + batch_size, end)]

    def read_stream(self, aggregate_id: str, *, after_version: int = 0,
                    to_version: int | None = None,
                    limit: int | None = None) -> list[RecordedEvent]:
        stream = self._by_stream.get(aggregate_id, [])
        end = len(stream) if to_version is None else min(to_version, len(stream))
        if limit is not None:
            end = min(end, after_version + limit)
        return stream[after_version:end]

    def get_event(self, event_id: str) -> RecordedEvent | None:
        return self._by_id.get(event_id)

    def events_with_metadata(self, key: str, value: str,
                             limit: int = 1000) -> list[RecordedEvent]:
        return [e for e in self._events if e.metadata.get(key) == value][:limit]

    def _stream_infos(self, aggregate_type: str | None, pattern: str | None) -> list[StreamInfo]:
        return [s for s in self._streams.values()
                if (not aggregate_type or s.aggregate_type == aggregate_type)
                and _id_matches(s.aggregate_id, pattern)]

    def streams(self, *, aggregate_type: str | None = None, pattern: str | None = None,
                after_id: str | None = None, limit: int | None = None) -> list[StreamInfo]:
        infos = sorted(self._stream_infos(aggregate_type, pattern), key=lambda s: s.aggregate_id)
        if after_id is not None:
            infos = infos[bisect_right([s.aggregate_id for s in infos], after_id):]
        return infos if limit is None else infos[:limit]

    def stream_count(self, *, aggregate_type: str | None = None,
                     pattern: str | None = None) -> int:
        return len(self._stream_infos(aggregate_type, pattern))

    def stream(self, aggregate_id: str) -> StreamInfo | None:
        return self._streams.get(aggregate_id)

    def aggregate_types(self) -> list[str]:
        return sorted({s.aggregate_type for s in self._streams.values()})

    def event_types(self) -> list[str]:
        return sorted({e.event_type for e in self._events})

    def event_histogram(self, *, buckets: int = 60, aggregate_id: str | None = None,
                        since: str | None = None, until: str | None = None,
                        ) -> tuple[list[str], dict[str, list[int]]]:
        events = self._by_stream.get(aggregate_id, []) if aggregate_id else self._events

        def read(low: str | None, high: str | None, count: int) -> Fine | None:
            flt = EventFilter(since=low, until=high)
            stamps = [(datetime.fromisoformat(e.recorded_at_text).timestamp(), e.event_type)
                      for e in events if _matches(e, flt)]
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

    def projection_rows(self, spec: ProjectionSpec, *, after_key: str | None = None,
                        limit: int | None = None) -> list[dict[str, Any]]:
        table = self._tables.get(spec.name, {})
        keys = sorted(k for k in table if after_key is None or k > after_key)
        if limit is not None:
            keys = keys[:limit]
        return [dict(table[k]) for k in keys]

    def projection_row_count(self, spec: ProjectionSpec) -> int:
        return len(self._tables.get(spec.name, {}))

    # -- sorted keyset reads ----------------------------------------------------------------
    def read_events_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                           limit: int | None = None,
                           filter: EventFilter | None = None) -> list[RecordedEvent]:
        sort.check(EVENT_SORT_COLUMNS)
        rows = [e for e in self._events if _matches(e, filter)]
        return _keyset_page(rows, lambda e: (event_sort_value(e, sort.column), e.position),
                            sort.descending, after, limit)

    def streams_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                       limit: int | None = None, aggregate_type: str | None = None,
                       pattern: str | None = None) -> list[StreamInfo]:
        sort.check(STREAM_SORT_COLUMNS)
        rows = self._stream_infos(aggregate_type, pattern)
        return _keyset_page(rows, lambda s: (stream_sort_value(s, sort.column), s.aggregate_id),
                            sort.descending, after, limit)

    def projection_rows_sorted(self, spec: ProjectionSpec, sort: SortKey, *,
                               after: Cursor | None = None,
                               limit: int | None = None) -> list[dict[str, Any]]:
        sort.check([c.name for c in spec.columns])
        rows = [dict(r) for r in self._tables.get(spec.name, {}).values()]
        page = _keyset_page(rows, lambda r: (r.get(sort.column), str(r[spec.key])),
                            sort.descending, after, limit, nullable=True)
        return page

    def checkpoints(self) -> dict[str, int]:
        return dict(self._checkpoints)

    def _lineage_entry(self, stored: dict[str, Any]) -> LineageEntry:
        event = self._events[int(stored["position"]) - 1]
        return LineageEntry.from_stored(stored, event.event_type, event.recorded_at_text)

    def row_history(self, projection: str, key: str) -> list[LineageEntry]:
        records = self._lineage.get(projection, {})
        return [self._lineage_entry(r) for _, r in sorted(records.items())
                if r["row_key"] == key]

    def rows_changed_at(self, position: int, *,
                        projections: Sequence[str] | None = None) -> list[LineageEntry]:
        return [self._lineage_entry(records[position])
                for name, records in sorted(self._lineage.items())
                if position in records and (projections is None or name in projections)]

    def parked_steps(self, *, include_skipped: bool = False,
                     process_manager: str | None = None) -> list[ParkedStep]:
        return [step for _, step in sorted(self._parked.items())
                if (include_skipped or step.status == "parked")
                and process_manager in (None, step.process_manager)]

    def saga_outcomes(self, *, correlation_id: str) -> list[SagaOutcome]:
        return [o for o in self._saga_outcomes if o.correlation_id == correlation_id]

    def wait_for_change(self, known_head: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: len(self._events) != known_head, timeout)
            return len(self._events)

    def latest_snapshot(self, aggregate_id: str, aggregate_type: str, fingerprint: str,
                        at_version: int | None = None) -> StoredSnapshot | None:
        for snap in reversed(self._snapshots.get(aggregate_id, [])):
            if (snap.aggregate_type == aggregate_type and snap.fingerprint == fingerprint
                    and (at_version is None or snap.version <= at_version)):
                return snap
        return None

    def snapshot_versions(self, aggregate_ids: Sequence[str]) -> dict[str, int]:
        return {a: self._snapshots[a][-1].version for a in aggregate_ids
                if self._snapshots.get(a)}

    def close(self) -> None:
        """Nothing to release: the data lives as long as the object."""


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


class _MemoryTransaction(StoreTransaction):
    def __init__(self, store: MemoryEventStore) -> None:
        self.store = store
        self.events: list[RecordedEvent] = []
        self.stream_tails: dict[str, list[RecordedEvent]] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.replaced: dict[str, dict[str, dict[str, Any]]] = {}
        self.signatures: dict[str, str] = {}
        self.checkpoints: dict[str, int] = {}
        self.parked_changes: dict[tuple[str, int], ParkedStep | None] = {}
        self.lineage_cleared: set[str] = set()
        self.lineage: list[dict[str, Any]] = []
        self.snapshots: list[StoredSnapshot] = []
        self.saga_outcomes: list[SagaOutcome] = []

    def head(self) -> int:
        return len(self.store._events) + len(self.events)

    def _version(self, aggregate_id: str) -> int:
        tail = self.stream_tails.get(aggregate_id)
        if tail:
            return tail[-1].version
        return len(self.store._by_stream.get(aggregate_id, ()))

    def read_stream(self, aggregate_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        committed = self.store._by_stream.get(aggregate_id, [])[after_version:]
        tail = [e for e in self.stream_tails.get(aggregate_id, []) if e.version > after_version]
        return committed + tail

    def append(self, events: Sequence[PendingEvent]) -> list[RecordedEvent]:
        seen_ids: set[str] = set()
        versions: dict[str, int] = {}
        for pending in events:
            expected = versions.get(pending.aggregate_id, self._version(pending.aggregate_id)) + 1
            if pending.version != expected:
                raise ConcurrencyError(pending.aggregate_id, pending.version)
            if pending.event_id in self.store._by_id or pending.event_id in seen_ids:
                raise StoreError(f"event id {pending.event_id} is already recorded")
            seen_ids.add(pending.event_id)
            versions[pending.aggregate_id] = pending.version
        recorded = []
        for pending in events:
            event = RecordedEvent.from_pending(pending, self.head() + 1)
            self.events.append(event)
            self.stream_tails.setdefault(event.aggregate_id, []).append(event)
            recorded.append(event)
        return recorded

    def events_after(self, position: int, *, event_types: Sequence[str] | None = None,
                     limit: int | None = None) -> list[RecordedEvent]:
        wanted = None if event_types is None else set(event_types)
        out = []
        for event in self.store._events[position:] + [e for e in self.events
                                                      if e.position > position]:
            if wanted is None or event.event_type in wanted:
                out.append(event)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def events_caused_by(self, causation_id: str) -> list[RecordedEvent]:
        return [e for e in self.store._events + self.events if e.causation_id == causation_id]

    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        mine = {e.event_id for e in self.events}
        return {i for i in event_ids if i in self.store._by_id or i in mine}

    def _table(self, spec: ProjectionSpec) -> dict[str, Any]:
        return self.rows.setdefault(spec.name, {})

    def get_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        overlay = self._table(spec)
        base = self.replaced.get(spec.name, self.store._tables.get(spec.name, {}))
        found: dict[str, dict[str, Any]] = {}
        for key in keys:
            row = overlay[key] if key in overlay else base.get(key)
            if row is not None and row is not _GONE:
                found[key] = dict(row)
        return found

    def put_rows(self, spec: ProjectionSpec, rows: Sequence[dict[str, Any]]) -> None:
        overlay = self._table(spec)
        for row in rows:
            overlay[str(row[spec.key])] = dict(row)

    def delete_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> None:
        overlay = self._table(spec)
        for key in keys:
            overlay[key] = _GONE

    def checkpoint(self, name: str) -> int | None:
        if name in self.checkpoints:
            return self.checkpoints[name]
        return self.store._checkpoints.get(name)

    def set_checkpoint(self, name: str, position: int) -> None:
        self.checkpoints[name] = position

    def ensure_projection(self, spec: ProjectionSpec) -> bool:
        if self.store._signatures.get(spec.name) == spec.signature:
            return False
        self.replace_projection(spec, [], 0)
        self.clear_lineage(spec.name)
        return True

    def replace_projection(self, spec: ProjectionSpec, rows: Iterable[dict[str, Any]],
                           checkpoint: int) -> None:
        self.replaced[spec.name] = {str(r[spec.key]): dict(r) for r in rows}
        self.rows.pop(spec.name, None)
        self.signatures[spec.name] = spec.signature
        self.checkpoints[spec.name] = checkpoint

    def flush(self) -> None:
        """Nothing is buffered: appends are checked when they are made."""

    def record_saga_outcome(self, outcome: SagaOutcome) -> None:
        self.saga_outcomes.append(outcome)

    def record_lineage(self, entries: Sequence[dict[str, Any]]) -> None:
        self.lineage.extend(dict(e) for e in entries)

    def clear_lineage(self, projection: str) -> None:
        self.lineage_cleared.add(projection)
        self.lineage = [e for e in self.lineage if e["projection"] != projection]

    def rename_lineage(self, old: str, new: str) -> None:
        moved = [dict(e, projection=new) for e in self.lineage if e["projection"] == old]
        moved += [dict(e, projection=new) for e in self.store._lineage.get(old, {}).values()
                  if old not in self.lineage_cleared]
        self.clear_lineage(old)
        self.lineage.extend(moved)
    def save_snapshot(self, snapshot: StoredSnapshot) -> None:
        self.snapshots.append(snapshot)

    def park(self, step: ParkedStep) -> None:
        self.parked_changes[(step.process_manager, step.position)] = step

    def unpark(self, process_manager: str, position: int) -> None:
        self.parked_changes[(process_manager, position)] = None

    def parked(self, process_manager: str, position: int) -> ParkedStep | None:
        key = (process_manager, position)
        if key in self.parked_changes:
            return self.parked_changes[key]
        return self.store._parked.get(key)

    def publish(self) -> None:
        store = self.store
        for parked_key, step in self.parked_changes.items():
            if step is None:
                store._parked.pop(parked_key, None)
            else:
                store._parked[parked_key] = step
        for name, table in self.replaced.items():
            store._tables[name] = table
        store._signatures.update(self.signatures)
        for name, overlay in self.rows.items():
            table = store._tables.setdefault(name, {})
            for key, row in overlay.items():
                if row is _GONE:
                    table.pop(key, None)
                else:
                    table[key] = row
        store._checkpoints.update(self.checkpoints)
        store._saga_outcomes.extend(self.saga_outcomes)
        for name in self.lineage_cleared:
            store._lineage.pop(name, None)
        for record in self.lineage:
            store._lineage.setdefault(record["projection"], {})[record["position"]] = record
        for event in self.events:
            store._by_stream.setdefault(event.aggregate_id, []).append(event)
            store._by_id[event.event_id] = event
            old = store._streams.get(event.aggregate_id)
            store._streams[event.aggregate_id] = StreamInfo(
                event.aggregate_id, event.aggregate_type, event.version,
                (old.event_count if old else 0) + 1, event.recorded_at_text, event.position)
        store._events.extend(self.events)
        for snap in self.snapshots:
            kept = [s for s in store._snapshots.get(snap.aggregate_id, [])
                    if s.fingerprint == snap.fingerprint and s.version < snap.version]
            store._snapshots[snap.aggregate_id] = [*kept, snap]
