"""The committed state of an in-memory store: plain lists and dicts that a write
transaction's `publish` changes at once, under the store's lock.

The events it keeps are its own: every event it hands out (appended, read, looked up) is a
copy (`handed`) sharing no dict or list with the log, as an SQL adapter's are new objects
decoded from their rows, so changing a `RecordedEvent`'s `data` or `metadata` changes
nothing kept, on every adapter."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

from incident_core.collector import collector_paused
from incident_core.domain import copy_json
from incident_core.envelope import RecordedEvent
from incident_core.ports import EventFilter, StoredSnapshot, StreamInfo
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.store.closed import closed_error

__all__ = ["ClosedData", "MemoryData", "handed", "handed_all", "id_matches", "matches"]


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


def handed(event: RecordedEvent) -> RecordedEvent:
    """A kept event as the store hands it out: a new object with its own copy of the data
    (JSON values) and its metadata to decode from the stored text."""
    data = event.data
    for value in data.values():
        if type(value) not in _ATOMS:
            data = copy_json(data)
            break
    else:  # only strings, numbers, bools and None: a shallow copy shares nothing
        data = data.copy()
    return RecordedEvent(event.position, event.event_id, event.aggregate_id,
                         event.aggregate_type, event.event_type, event.version,
                         event.recorded_at_text, data, event.metadata_json,
                         event.schema_version)


def handed_all(events: Iterable[RecordedEvent]) -> list[RecordedEvent]:
    """`handed` of each event, the collector paused (the copies hold no cycles)."""
    with collector_paused():
        return [handed(event) for event in events]


_ATOMS = frozenset({str, int, float, bool, type(None)})


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
