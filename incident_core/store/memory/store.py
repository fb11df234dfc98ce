"""The in-memory adapter: plain lists and dicts, same contract as the SQL adapter.

A write transaction holds a mutex and buffers its changes in an overlay; commit publishes
them at once, rollback drops them, so readers only ever see committed state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from incident_core.envelope import RecordedEvent
from incident_core.errors import ReadOnlyError
from incident_core.ports import EventFilter, EventStore, StoredSnapshot, StoreTransaction
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.projections.definition import ProjectionSpec
from incident_core.store.closed import closed_error
from incident_core.store.memory.inspector import MemoryInspector
from incident_core.store.memory.state import (
    ClosedData,
    MemoryData,
    handed,
    handed_all,
    matches,
)
from incident_core.store.memory.transaction import MemoryTransaction

__all__ = ["MemoryEventStore"]


class MemoryEventStore(MemoryInspector, EventStore):
    dialect = "memory"

    def __init__(self, target: str = "memory:", *, read_only: bool = False) -> None:
        super().__init__(target, read_only=read_only)
        self._write_lock = threading.Lock()
        self._changed = threading.Condition()
        self._data = MemoryData()

    def meta(self) -> dict[str, str]:
        return dict(self._data.meta)

    def add_meta(self, values: Mapping[str, str]) -> dict[str, str]:
        meta = self._data.meta  # raises once closed
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        for key, value in values.items():
            meta.setdefault(key, value)
        return dict(meta)

    def projection_signatures(self) -> dict[str, str]:
        return dict(self._data.signatures)

    # -- the event log ------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        if self.closed:
            raise closed_error(self.target)
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        with self._write_lock:
            data = self._data
            tx = MemoryTransaction(data)
            yield tx
            with self._changed:
                if self._data is not data:  # closed meanwhile: nothing is accepted
                    raise closed_error(self.target)
                tx.publish()
                self._changed.notify_all()

    def head(self) -> int:
        return len(self._data.events)

    def read_events(self, *, after_position: int = 0, before_position: int | None = None,
                    limit: int | None = None, filter: EventFilter | None = None,
                    descending: bool = False) -> list[RecordedEvent]:
        events = self._data.events[after_position:before_position - 1 if before_position else None]
        ordered = reversed(events) if descending else iter(events)
        out = []
        for event in ordered:
            if matches(event, filter):
                out.append(event)
                if limit is not None and len(out) >= limit:
                    break
        return handed_all(out)

    def iter_events(self, *, after_position: int = 0, up_to: int | None = None,
                    batch_size: int = 5000) -> Iterator[list[RecordedEvent]]:
        end = len(self._data.events) if up_to is None else min(up_to, len(self._data.events))
        for start in range(after_position, end, batch_size):
            yield handed_all(self._data.events[start:min(start + batch_size, end)])

    def read_stream(self, aggregate_id: str, *, after_version: int = 0,
                    to_version: int | None = None,
                    limit: int | None = None) -> list[RecordedEvent]:
        stream = self._data.by_stream.get(aggregate_id, [])
        end = len(stream) if to_version is None else min(to_version, len(stream))
        if limit is not None:
            end = min(end, after_version + limit)
        return handed_all(stream[after_version:end])

    def get_event(self, event_id: str) -> RecordedEvent | None:
        found = self._data.by_id.get(event_id)
        return None if found is None else handed(found)

    def events_with_metadata(self, key: str, value: str,
                             limit: int = 1000) -> list[RecordedEvent]:
        return handed_all([e for e in self._data.events
                           if e.metadata.get(key) == value][:limit])

    def wait_for_change(self, known_head: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: len(self._data.events) != known_head, timeout)
            return len(self._data.events)

    # -- projections, the saga ledger, snapshots ---------------------------------------
    def projection_rows(self, spec: ProjectionSpec, *, after_key: str | None = None,
                        limit: int | None = None) -> list[dict[str, Any]]:
        table = self._data.tables.get(spec.name, {})
        keys = sorted(k for k in table if after_key is None or k > after_key)
        if limit is not None:
            keys = keys[:limit]
        return [dict(table[k]) for k in keys]

    def projection_row_count(self, spec: ProjectionSpec) -> int:
        return len(self._data.tables.get(spec.name, {}))

    def checkpoints(self) -> dict[str, int]:
        return dict(self._data.checkpoints)

    def parked_steps(self, *, include_skipped: bool = False,
                     process_manager: str | None = None) -> list[ParkedStep]:
        return [step for _, step in sorted(self._data.parked.items())
                if (include_skipped or step.status == "parked")
                and process_manager in (None, step.process_manager)]

    def saga_outcomes(self, *, correlation_id: str) -> list[SagaOutcome]:
        return [o for o in self._data.saga_outcomes if o.correlation_id == correlation_id]

    def latest_snapshot(self, aggregate_id: str, aggregate_type: str, fingerprint: str,
                        at_version: int | None = None) -> StoredSnapshot | None:
        for snap in reversed(self._data.snapshots.get(aggregate_id, [])):
            if (snap.aggregate_type == aggregate_type and snap.fingerprint == fingerprint
                    and (at_version is None or snap.version <= at_version)):
                return snap
        return None

    def snapshot_versions(self, aggregate_ids: Sequence[str]) -> dict[str, int]:
        return {a: self._data.snapshots[a][-1].version for a in aggregate_ids
                if self._data.snapshots.get(a)}

    def close(self) -> None:
        """Drop the data: from now on every read and write raises "the store is closed" (a
        transaction under way when it closes is refused at its commit)."""
        self.closed = True
        with self._changed:
            self._data = ClosedData(self.target)
            self._changed.notify_all()
