"""A write transaction of the in-memory store: its changes are buffered in an overlay
while the store's mutex is held; `publish` applies them at commit, rollback drops them, so
readers only ever see committed state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import ConcurrencyError, StoreError
from incident_core.ports import StoredSnapshot, StoreTransaction, StreamInfo
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.projections.definition import ProjectionSpec
from incident_core.store.memory.state import MemoryData, handed, handed_all

__all__ = ["MemoryTransaction"]

_GONE: Any = object()  # a row deleted in the overlay


class MemoryTransaction(StoreTransaction):
    """Changes buffered in an overlay over the committed `MemoryData`, published at once."""

    def __init__(self, data: MemoryData) -> None:
        self.data = data
        self.events: list[RecordedEvent] = []
        self.stream_tails: dict[str, list[RecordedEvent]] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.replaced: dict[str, dict[str, dict[str, Any]]] = {}
        self.signatures: dict[str, str] = {}
        self.checkpoints: dict[str, int] = {}
        self.parked_changes: dict[tuple[str, int], ParkedStep | None] = {}
        self.lineage_cleared: set[str] = set()
        self.lineage: list[tuple[str, str, int]] = []  # index entries added
        self.lineage_starts: dict[str, Any] = {}  # start, or _GONE: no name
        self.snapshots: list[StoredSnapshot] = []
        self.saga_outcomes: list[SagaOutcome] = []

    def head(self) -> int:
        return len(self.data.events) + len(self.events)

    def _version(self, aggregate_id: str) -> int:
        tail = self.stream_tails.get(aggregate_id)
        if tail:
            return tail[-1].version
        return len(self.data.by_stream.get(aggregate_id, ()))

    def read_stream(self, aggregate_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        committed = self.data.by_stream.get(aggregate_id, [])[after_version:]
        tail = [e for e in self.stream_tails.get(aggregate_id, []) if e.version > after_version]
        return handed_all(committed + tail)

    def append(self, events: Sequence[PendingEvent]) -> list[RecordedEvent]:
        seen_ids: set[str] = set()
        versions: dict[str, int] = {}
        for pending in events:
            expected = versions.get(pending.aggregate_id, self._version(pending.aggregate_id)) + 1
            if pending.version != expected:
                raise ConcurrencyError(pending.aggregate_id, pending.version)
            if pending.event_id in self.data.by_id or pending.event_id in seen_ids:
                raise StoreError(f"event id {pending.event_id} is already recorded")
            seen_ids.add(pending.event_id)
            versions[pending.aggregate_id] = pending.version
        recorded = []
        for pending in events:
            event = RecordedEvent.from_pending(pending, self.head() + 1)  # the caller's data
            kept = handed(event)  # the log's own copy, as an SQL store keeps its text
            self.events.append(kept)
            self.stream_tails.setdefault(kept.aggregate_id, []).append(kept)
            recorded.append(event)
        return recorded

    def events_after(self, position: int, *, event_types: Sequence[str] | None = None,
                     limit: int | None = None) -> list[RecordedEvent]:
        wanted = None if event_types is None else set(event_types)
        out = []
        for event in self.data.events[position:] + [e for e in self.events
                                                      if e.position > position]:
            if wanted is None or event.event_type in wanted:
                out.append(event)
                if limit is not None and len(out) >= limit:
                    break
        return handed_all(out)

    def events_caused_by(self, causation_id: str) -> list[RecordedEvent]:
        return handed_all([e for e in self.data.events + self.events
                           if e.causation_id == causation_id])

    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        mine = {e.event_id for e in self.events}
        return {i for i in event_ids if i in self.data.by_id or i in mine}

    def _table(self, spec: ProjectionSpec) -> dict[str, Any]:
        return self.rows.setdefault(spec.name, {})

    def get_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        overlay = self._table(spec)
        base = self.replaced.get(spec.name, self.data.tables.get(spec.name, {}))
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
        return self.data.checkpoints.get(name)

    def set_checkpoint(self, name: str, position: int) -> None:
        self.checkpoints[name] = position

    def ensure_projection(self, spec: ProjectionSpec) -> bool:
        if self.data.signatures.get(spec.name) == spec.signature:
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

    def record_lineage(self, entries: Sequence[tuple[str, str, int]]) -> None:
        for name in dict.fromkeys(p for p, _, _ in entries):
            if self._start(name) is _GONE:
                self.lineage_starts[name] = 0
        self.lineage.extend(entries)

    def _start(self, name: str) -> Any:
        return self.lineage_starts.get(name, self.data.lineage_starts.get(name, _GONE))

    def clear_lineage(self, projection: str) -> None:
        self.lineage_cleared.add(projection)
        self.lineage = [e for e in self.lineage if e[0] != projection]
        self.lineage_starts[projection] = _GONE

    def rename_lineage(self, old: str, new: str) -> None:
        moved = [(new, k, n) for p, k, n in self.lineage if p == old]
        if old not in self.lineage_cleared:
            moved += [(new, k, n) for k, positions in self.data.lineage.get(old, {}).items()
                      for n in positions]
        start = self._start(old)
        self.clear_lineage(old)
        self.clear_lineage(new)
        self.lineage.extend(moved)
        self.lineage_starts[new] = start

    def mark_lineage(self, projection: str, start: int | None) -> None:
        found = self._start(projection)
        if found is _GONE or start is None or found is None:
            self.lineage_starts[projection] = start

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
        return self.data.parked.get(key)

    def publish(self) -> None:
        store = self.data
        for parked_key, step in self.parked_changes.items():
            if step is None:
                store.parked.pop(parked_key, None)
            else:
                store.parked[parked_key] = step
        for name, table in self.replaced.items():
            store.tables[name] = table
        store.signatures.update(self.signatures)
        for name, overlay in self.rows.items():
            table = store.tables.setdefault(name, {})
            for key, row in overlay.items():
                if row is _GONE:
                    table.pop(key, None)
                else:
                    table[key] = row
        store.checkpoints.update(self.checkpoints)
        store.saga_outcomes.extend(self.saga_outcomes)
        for name in self.lineage_cleared:
            store.lineage.pop(name, None)
        for name, key, position in self.lineage:
            store.lineage.setdefault(name, {}).setdefault(key, set()).add(position)
        for name, start in self.lineage_starts.items():
            if start is _GONE:
                store.lineage_starts.pop(name, None)
            else:
                store.lineage_starts[name] = start
        for event in self.events:
            store.by_stream.setdefault(event.aggregate_id, []).append(event)
            store.by_id[event.event_id] = event
            old = store.streams.get(event.aggregate_id)
            store.streams[event.aggregate_id] = StreamInfo(
                event.aggregate_id, event.aggregate_type, event.version,
                (old.event_count if old else 0) + 1, event.recorded_at_text, event.position)
        store.events.extend(self.events)
        for snap in self.snapshots:
            kept = [s for s in store.snapshots.get(snap.aggregate_id, [])
                    if s.fingerprint == snap.fingerprint and s.version < snap.version]
            store.snapshots[snap.aggregate_id] = [*kept, snap]
