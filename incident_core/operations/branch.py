"""What-if branches: a scratch store holding the log up to a position, and the difference
between two stores.

`branch(app, target, at=N)` copies the events at positions ≤ N, as recorded (same ids,
times, data and metadata), into a new store, then rebuilds its projections by replay, so
the branch is exactly the original as it was at N. The original is only read. Process
managers start at the branch's head: the branch does not re-run saga steps (a conversation
the original finished after N stays unfinished on the branch until a command moves it on).

`diff(a, b, domain)` compares two stores: streams that differ (and the events only one of
them holds), and projection rows added, removed or changed, with before/after values.
Both are paged in key order, so both stores must order keys the same way (the same kind
of adapter, as a branch beside its original is).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import IncidentError
from incident_core.operations.rebuild import rebuild
from incident_core.progress import Operation, Progress

if TYPE_CHECKING:
    from incident_core.domain import Domain
    from incident_core.engine.application import Application
    from incident_core.ports import EventStore, StreamInfo
    from incident_core.projections.definition import ProjectionSpec

__all__ = ["BranchReport", "StoreDiff", "branch", "diff"]

BATCH = 5000
MAX_LISTED = 1000  # events / rows listed per kind of difference (counts stay exact)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BranchReport:
    target: str
    at: int
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "target": self.target, "at": self.at, "events": self.events,
                "seconds": round(self.seconds, 3),
                "events_per_second": round(self.events_per_second)}


def _pending(event: RecordedEvent) -> PendingEvent:
    return PendingEvent(event.event_id, event.aggregate_id, event.aggregate_type,
                        event.event_type, event.version, event.recorded_at_text,
                        json.dumps(event.data, ensure_ascii=False, separators=(",", ":")),
                        event.metadata_json, event.schema_version, event.correlation_id,
                        event.causation_id, event.data)


def branch(app: Application, target: str, *, at: int) -> Operation[BranchReport]:
    """Make the branch at `target` (a new, empty store) holding the log up to `at`."""
    from incident_core.engine.application import Application
    from incident_core.store.open import open_store

    source = app.store
    if not 0 <= at <= source.head():
        raise IncidentError(f"position {at} is not in this store (head {source.head()})")
    started = time.perf_counter()
    store = open_store(target, create=True, synchronous="OFF")  # a scratch copy: no fsyncs
    if store.head() != 0:
        store.close()
        raise IncidentError(f"{target} already holds events: a branch needs a new store")
    scratch = Application(store, app.domain)
    try:
        copied = 0
        yield Progress(0, at, "copying events")
        for batch in source.iter_events(up_to=at, batch_size=BATCH):
            with scratch.store.transaction() as tx:
                tx.append([_pending(e) for e in batch])
            copied += len(batch)
            yield Progress(copied, at, "copying events")
        with scratch.store.transaction() as tx:
            head = tx.head()
            for pm in app.domain.process_managers.values():
                tx.set_checkpoint(pm.name, head)
        yield from rebuild(scratch, list(app.domain.projections))
    finally:
        scratch.close()
    return BranchReport(target, at, copied, time.perf_counter() - started)


# -- comparing two stores ----------------------------------------------------------------
@dataclass
class StoreDiff:
    streams_only_a: list[str] = field(default_factory=list)
    streams_only_b: list[str] = field(default_factory=list)
    streams_changed: list[str] = field(default_factory=list)
    events_only_a: list[dict[str, Any]] = field(default_factory=list)
    events_only_b: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    versions: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return not (self.streams_only_a or self.streams_only_b or self.streams_changed
                    or any(any(kinds.values()) for kinds in self.rows.values()))

    def to_json(self) -> dict[str, Any]:
        return {"same": self.same,
                "streams": {"only_a": self.streams_only_a, "only_b": self.streams_only_b,
                            "changed": self.streams_changed,
                            "versions": {k: list(v) for k, v in self.versions.items()}},
                "events": {"only_a": self.events_only_a, "only_b": self.events_only_b},
                "projections": self.rows}


def _paged(fetch: Callable[[T | None], list[T]]) -> Iterator[T]:
    """Every item of a keyset-paged listing (`fetch(last item or None)` → next page)."""
    after: T | None = None
    while page := fetch(after):
        yield from page
        after = page[-1]


def _merge(a: Iterator[T], b: Iterator[T],
           key: Callable[[T], str]) -> Iterator[tuple[T | None, T | None]]:
    """Pairs of items with equal keys (None where one side lacks the key)."""
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        if y is None or (x is not None and key(x) < key(y)):
            yield x, None
            x = next(a, None)
        elif x is None or key(y) < key(x):
            yield None, y
            y = next(b, None)
        else:
            yield x, y
            x, y = next(a, None), next(b, None)


def _event_summary(event: RecordedEvent) -> dict[str, Any]:
    return {"event_id": event.event_id, "aggregate_id": event.aggregate_id,
            "version": event.version, "event_type": event.event_type, "data": event.data}


def _streams(store: EventStore) -> Iterator[StreamInfo]:
    return _paged(lambda last: store.streams(after_id=None if last is None
                                             else last.aggregate_id, limit=BATCH))


def _same_tip(left: StreamInfo, right: StreamInfo) -> bool:
    """Same version, and its last event at the same position and microsecond: the same
    stream (reading every stream's last event of two big stores would take minutes)."""
    return (left.version, left.last_position, left.last_recorded_at) == (
        right.version, right.last_position, right.last_recorded_at)


def _compare_streams(a: EventStore, b: EventStore, out: StoreDiff) -> None:
    for left, right in _merge(_streams(a), _streams(b), lambda s: s.aggregate_id):
        if left is None:
            if right is not None:
                out.streams_only_b.append(right.aggregate_id)
                out.versions[right.aggregate_id] = (None, right.version)
                if len(out.events_only_b) < MAX_LISTED:
                    _list_events([], b.read_stream(right.aggregate_id), out)
        elif right is None:
            out.streams_only_a.append(left.aggregate_id)
            out.versions[left.aggregate_id] = (left.version, None)
            if len(out.events_only_a) < MAX_LISTED:
                _list_events(a.read_stream(left.aggregate_id), [], out)
        elif not _same_tip(left, right):
            events_a = a.read_stream(left.aggregate_id)
            events_b = b.read_stream(right.aggregate_id)
            if [e.event_id for e in events_a] != [e.event_id for e in events_b]:
                out.streams_changed.append(left.aggregate_id)
                out.versions[left.aggregate_id] = (left.version, right.version)
                _list_events(events_a, events_b, out)


def _list_events(events_a: list[RecordedEvent], events_b: list[RecordedEvent],
                 out: StoreDiff) -> None:
    ids_a, ids_b = {e.event_id for e in events_a}, {e.event_id for e in events_b}
    for event in events_a:
        if event.event_id not in ids_b and len(out.events_only_a) < MAX_LISTED:
            out.events_only_a.append(_event_summary(event))
    for event in events_b:
        if event.event_id not in ids_a and len(out.events_only_b) < MAX_LISTED:
            out.events_only_b.append(_event_summary(event))


def _rows(store: EventStore, spec: ProjectionSpec) -> Iterator[dict[str, Any]]:
    return _paged(lambda last: store.projection_rows(
        spec, after_key=None if last is None else str(last[spec.key]), limit=BATCH))


def _compare_rows(a: EventStore, b: EventStore, spec: ProjectionSpec) -> dict[str, list[Any]]:
    kinds: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}
    key = spec.key
    for left, right in _merge(_rows(a, spec), _rows(b, spec), lambda r: str(r[key])):
        if left is None:
            kinds["added"].append(right)
        elif right is None:
            kinds["removed"].append(left)
        elif left != right:
            changed = {c: {"before": left.get(c), "after": right.get(c)}
                       for c in sorted(set(left) | set(right)) if left.get(c) != right.get(c)}
            kinds["changed"].append({"key": left[key], "columns": changed})
    return {kind: rows[:MAX_LISTED] for kind, rows in kinds.items()}


def diff(a: EventStore, b: EventStore, domain: Domain) -> StoreDiff:
    """What b has that a has not, and the other way round ("added" rows are b's)."""
    out = StoreDiff()
    _compare_streams(a, b, out)
    for projection in domain.projections.values():
        out.rows[projection.name] = _compare_rows(a, b, projection.spec)
    return out
