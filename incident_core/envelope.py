"""Recorded events: the envelope the store keeps around each domain event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["PendingEvent", "RecordedEvent", "format_time", "utc_now"]

_decode = json.loads


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """The store's one textual form of a time: UTC, ISO 8601, microseconds (sorts as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event decided by an aggregate, not yet recorded (no position yet)."""

    event_id: str
    aggregate_id: str
    aggregate_type: str
    event_type: str
    version: int
    recorded_at: str
    data_json: str
    metadata_json: str
    schema_version: int
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any] | None = None  # the decoded data when the writer already has it


class RecordedEvent:
    """One stored event. `data` is decoded eagerly; metadata and time lazily (hot replay path).

    Ten slots and no per-event caches beyond the metadata: a replayed event kept in memory
    costs this object, its data, its id and position, little more. `_metadata` holds the
    stored metadata JSON until it is decoded, then (that JSON, the dict); a subclass may keep
    other forms there. `recorded_at` parses `recorded_at_text` on each access (the store's
    time column may change form; the parsing stays here)."""

    __slots__ = (
        "_metadata",
        "aggregate_id",
        "aggregate_type",
        "data",
        "event_id",
        "event_type",
        "position",
        "recorded_at_text",
        "schema_version",
        "version",
    )

    position: int
    event_id: str
    aggregate_id: str
    aggregate_type: str
    event_type: str
    version: int
    recorded_at_text: str
    data: dict[str, Any]
    schema_version: int
    _metadata: Any  # see the class's docstring

    def __init__(
        self,
        position: int,
        event_id: str,
        aggregate_id: str,
        aggregate_type: str,
        event_type: str,
        version: int,
        recorded_at_text: str,
        data: dict[str, Any],
        metadata_json: str,
        schema_version: int,
    ) -> None:
        self.position = position
        self.event_id = event_id
        self.aggregate_id = aggregate_id
        self.aggregate_type = aggregate_type
        self.event_type = event_type
        self.version = version
        self.recorded_at_text = recorded_at_text
        self.data = data
        self.schema_version = schema_version
        self._metadata = metadata_json

    @classmethod
    def from_row(cls, row: Any) -> RecordedEvent:
        """Build from a row (position, event_id, aggregate_id, aggregate_type, event_type,
        version, recorded_at, data, metadata, schema_version)."""
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6], _decode(row[7]),
                   row[8], row[9])

    @classmethod
    def from_pending(cls, pending: PendingEvent, position: int) -> RecordedEvent:
        data = pending.data if pending.data is not None else _decode(pending.data_json)
        return cls(position, pending.event_id, pending.aggregate_id, pending.aggregate_type,
                   pending.event_type, pending.version, pending.recorded_at,
                   data, pending.metadata_json, pending.schema_version)

    @property
    def metadata(self) -> dict[str, Any]:
        found = self._metadata
        if type(found) is str:
            decoded: dict[str, Any] = _decode(found)
            self._metadata = found, decoded
            return decoded
        return found[1]  # type: ignore[no-any-return]

    @property
    def metadata_json(self) -> str:
        found = self._metadata
        return found if type(found) is str else found[0]

    @property
    def recorded_at(self) -> datetime:
        return datetime.fromisoformat(self.recorded_at_text)

    @property
    def correlation_id(self) -> str | None:
        value = self.metadata.get("correlation_id")
        return str(value) if value is not None else None

    @property
    def causation_id(self) -> str | None:
        value = self.metadata.get("causation_id")
        return str(value) if value is not None else None

    def to_json(self) -> dict[str, Any]:
        """The public JSON form (CLI, export, GUI 'copy as JSON')."""
        return {
            "position": self.position,
            "event_id": self.event_id,
            "aggregate_id": self.aggregate_id,
            "aggregate_type": self.aggregate_type,
            "event_type": self.event_type,
            "version": self.version,
            "recorded_at": self.recorded_at_text,
            "schema_version": self.schema_version,
            "data": self.data,
            "metadata": self.metadata,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedEvent):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.event_id)

    def __repr__(self) -> str:
        return (f"RecordedEvent(#{self.position} {self.aggregate_type}/{self.aggregate_id} "
                f"v{self.version} {self.event_type} {self.data})")
