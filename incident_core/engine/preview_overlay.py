"""A write transaction that writes nothing: events appended to it, checkpoints moved and
saga steps parked stay in memory over the store's committed state (read through its public
read methods), so a command and its whole saga cascade can run without touching the store.
Used by `Application.preview` (see `incident_core.engine.cascade`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import ConcurrencyError, IncidentError
from incident_core.ports import EventFilter, EventStore, StoredSnapshot, StoreTransaction
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.projections.definition import ProjectionSpec

__all__ = ["OverlayTransaction"]


class OverlayTransaction(StoreTransaction):
    """Reads see the store plus what was appended here; nothing is ever written."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.base_head = store.head()
        self.events: list[RecordedEvent] = []
        self._checkpoints: dict[str, int] | None = None
        self._parked: dict[tuple[str, int], ParkedStep | None] = {}

    def head(self) -> int:
        return self.base_head + len(self.events)

    def read_stream(self, aggregate_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        committed = self.store.read_stream(aggregate_id, after_version=after_version)
        mine = [e for e in self.events
                if e.aggregate_id == aggregate_id and e.version > after_version]
        return committed + mine

    def append(self, events: Sequence[PendingEvent]) -> list[RecordedEvent]:
        recorded = []
        for pending in events:
            tail = self.read_stream(pending.aggregate_id)
            if pending.version != (tail[-1].version if tail else 0) + 1:
                raise ConcurrencyError(pending.aggregate_id, pending.version)
            event = RecordedEvent.from_pending(pending, self.head() + 1)
            self.events.append(event)
            recorded.append(event)
        return recorded

    def events_after(self, position: int, *, event_types: Sequence[str] | None = None,
                     limit: int | None = None) -> list[RecordedEvent]:
        if event_types is not None and not event_types:
            return []
        wanted = None if event_types is None else set(event_types)
        flt = None if event_types is None else EventFilter(event_types=tuple(event_types))
        out = self.store.read_events(after_position=position,
                                     before_position=self.base_head + 1, limit=limit,
                                     filter=flt) if position < self.base_head else []
        for event in self.events:
            if limit is not None and len(out) >= limit:
                break
            if event.position > position and (wanted is None or event.event_type in wanted):
                out.append(event)
        return out

    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        mine = {e.event_id for e in self.events}
        return {i for i in event_ids if i in mine or self.store.get_event(i) is not None}

    def events_caused_by(self, causation_id: str) -> list[RecordedEvent]:
        committed = self.store.events_with_metadata("causation_id", causation_id)
        return committed + [e for e in self.events if e.causation_id == causation_id]

    # projections are not run in a preview
    def get_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {}

    def put_rows(self, spec: ProjectionSpec, rows: Sequence[dict[str, Any]]) -> None:
        """Rows are not kept: a preview runs no projection."""

    def delete_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> None:
        """Rows are not kept: a preview runs no projection."""

    def ensure_projection(self, spec: ProjectionSpec) -> bool:
        raise IncidentError("a preview does not touch projection tables")

    def replace_projection(self, spec: ProjectionSpec, rows: Iterable[dict[str, Any]],
                           checkpoint: int) -> None:
        raise IncidentError("a preview does not touch projection tables")

    def checkpoint(self, name: str) -> int | None:
        if self._checkpoints is None:
            self._checkpoints = dict(self.store.checkpoints())
        return self._checkpoints.get(name)

    def set_checkpoint(self, name: str, position: int) -> None:
        self.checkpoint(name)
        assert self._checkpoints is not None
        self._checkpoints[name] = position

    def park(self, step: ParkedStep) -> None:
        self._parked[(step.process_manager, step.position)] = step

    def unpark(self, process_manager: str, position: int) -> None:
        self._parked[(process_manager, position)] = None

    def parked(self, process_manager: str, position: int) -> ParkedStep | None:
        key = (process_manager, position)
        if key in self._parked:
            return self._parked[key]
        found = self.store.parked_steps(include_skipped=True, process_manager=process_manager)
        return next((s for s in found if s.position == position), None)

    def record_saga_outcome(self, outcome: SagaOutcome) -> None:
        """Not kept: a preview records nothing (its outcomes are in its own result)."""

    def record_lineage(self, entries: Sequence[tuple[str, str, int]]) -> None:
        """Lineage is not kept: a preview runs no projection."""

    def clear_lineage(self, projection: str) -> None:
        """Lineage is not kept: a preview runs no projection."""

    def rename_lineage(self, old: str, new: str) -> None:
        """Lineage is not kept: a preview runs no projection."""

    def mark_lineage(self, projection: str, start: int | None) -> None:
        """Lineage is not kept: a preview runs no projection."""

    def save_snapshot(self, snapshot: StoredSnapshot) -> None:
        """Not kept: a preview writes nothing, and a snapshot only saves replay work."""

    def flush(self) -> None:
        """Nothing is buffered (or written)."""
