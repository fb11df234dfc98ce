"""The committed state of an in-memory store: plain lists and dicts that a write
transaction's `publish` changes at once, under the store's lock."""

from __future__ import annotations

import fnmatch
from typing import Any

from incident_core.envelope import RecordedEvent
from incident_core.ports import EventFilter, StoredSnapshot, StreamInfo
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.store.closed import closed_error

__all__ = ["ClosedData", "MemoryData", "id_matches", "matches"]


class MemoryData:
    """Everything a memory store holds."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.by_stream: dict[str, list[RecordedEvent]] = {}
        self.by_id: dict[str, RecordedEvent] = {}
        self.streams: dict[str, StreamInfo] = {}
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.signatures: dict[str, str] = {}
        self.checkpoints: dict[str, int] = {}
        self.parked: dict[tuple[str, int], ParkedStep] = {}
        self.saga_outcomes: list[SagaOutcome] = []
        # row lineage index: projection → row key → positions; from where it is complete
        # (see incident_core.engine.lineage)
        self.lineage: dict[str, dict[str, set[int]]] = {}
        self.lineage_starts: dict[str, int | None] = {}
        self.snapshots: dict[str, list[StoredSnapshot]] = {}  # by aggregate, oldest first
        self.meta: dict[str, str] = {}

    def stream_infos(self, aggregate_type: str | None, pattern: str | None) -> list[StreamInfo]:
        return [s for s in self.streams.values()
                if (not aggregate_type or s.aggregate_type == aggregate_type)
                and id_matches(s.aggregate_id, pattern)]


class ClosedData(MemoryData):
    """What a closed memory store holds instead of its data (dropped): it has none of
    `MemoryData`'s attributes, and reading any of them, so every read and write of the
    store, raises "the store is closed"."""

    def __init__(self, target: str) -> None:  # no super().__init__(): it holds no data
        self.__dict__["target"] = target

    def __getattr__(self, name: str) -> Any:
        raise closed_error(self.__dict__["target"])


def matches(event: RecordedEvent, flt: EventFilter | None) -> bool:
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


def id_matches(aggregate_id: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    if "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(aggregate_id.lower(), pattern.lower())
    return pattern.lower() in aggregate_id.lower()
