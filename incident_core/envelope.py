"""Recorded events: the envelope the store keeps around each domain event."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from incident_core.errors import CorruptStoreError

__all__ = ["PendingEvent", "RecordedEvent", "canonical_time", "format_micros", "format_time",
           "from_micros", "micros", "now_text", "utc_now"]

_decode = json.loads


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """The store's one textual form of a time: UTC, ISO 8601, microseconds (sorts as text)."""
    m = moment.astimezone(UTC)  # not strftime: its %Y gives '999', not '0999', on Linux
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:"
            f"{m.second:02d}.{m.microsecond:06d}+00:00")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(text: str) -> int:
    """A time's microseconds since the Unix epoch (how schema 4 stores `recorded_at`)."""
    return (datetime.fromisoformat(text) - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return _EPOCH + value * _MICROSECOND  # not timedelta(microseconds=...): 4x slower


def canonical_time(text: str) -> str:
    """`text` in the store's form (`format_time`); ValueError for a time that is not ISO 8601
    or has no time zone. What the store keeps must be what it gives back."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"recorded_at {text!r} has no time zone")
    try:
        canonical = format_time(moment)
    except OverflowError:
        raise ValueError(f"recorded_at {text!r} is out of range in UTC") from None
    return text if canonical == text else canonical


_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00")  # events share their seconds


def format_micros(value: int) -> str:
    """The store's textual form of a time stored as microseconds since the epoch."""
    global _last_second  # noqa: PLW0603 - a one-entry memo, replaced whole (thread-safe)
    seconds, fraction = divmod(value, 1_000_000)
    last = _last_second
    if last[0] == seconds:
        prefix = last[1]
    else:
        try:
            prefix = format_time(_EPOCH + timedelta(seconds=seconds))[:19]
        except (OverflowError, ValueError):  # damage: no time a writer could have stored
            raise CorruptStoreError(f"a stored time is out of range: {value} µs") from None
        _last_second = (seconds, prefix)
    return f"{prefix}.{fraction:06d}+00:00"


def now_text() -> str:
    """The time now in the store's text form: `format_time(utc_now())`, made from the
    clock's microseconds without a datetime (each command's events are stamped with it)."""
    return format_micros(time.time_ns() // 1000)


class PendingEvent(NamedTuple):
    """An event decided by an aggregate, not yet recorded (no position yet). A named
    tuple: immutable as a frozen dataclass, built in a quarter of its time (0.3 µs, not
    1.1: one per event of every dispatch)."""

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
    # the metadata `metadata_json` encodes, when the writer has it and all its keys and
    # values are strings (the row builder then lifts its ids without decoding the JSON)
    metadata: dict[str, str] | None = None


class RecordedEvent:
    """One stored event. `data` is decoded eagerly; metadata and time lazily (hot replay path).

    Ten slots and no per-event caches beyond the metadata: a replayed event kept in memory
    costs this object, its data, its id and position, little more. `_metadata` holds the
    stored metadata JSON until it is decoded, then (that JSON, the dict); a subclass may keep
    other forms there. `_recorded` holds the time as stored: its text (schema 3 and before,
    the memory store), or schema 4's microseconds, put in text form when first asked for;
    `recorded_at` decodes it on each access (no slot kept for the datetime)."""

    __slots__ = (
        "_metadata",
        "_recorded",
        "aggregate_id",
        "aggregate_type",
        "data",
        "event_id",
        "event_type",
        "position",
        "schema_version",
        "version",
    )

    position: int
    event_id: str
    aggregate_id: str
    aggregate_type: str
    event_type: str
    version: int
    data: dict[str, Any]
    schema_version: int
    _metadata: Any  # see the class's docstring
    _recorded: str | int  # the time's text, or schema 4's microseconds until first asked

    def __init__(
        self,
        position: int,
        event_id: str,
        aggregate_id: str,
        aggregate_type: str,
        event_type: str,
        version: int,
        recorded_at_text: str | int,
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
        self._recorded = recorded_at_text  # text, or schema 4's microseconds (decoded on use)
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
    def recorded_at_text(self) -> str:
        value = self._recorded
        if isinstance(value, int):
            value = self._recorded = format_micros(value)
        return value

    @property
    def recorded_at(self) -> datetime:
        """The time, tz-aware (UTC), decoded on each access (no slot kept for it)."""
        value = self._recorded
        return from_micros(value) if isinstance(value, int) else datetime.fromisoformat(value)

    @property
    def correlation_id(self) -> str | None:
        value = self.metadata.get("correlation_id")
        return str(value) if value is not None else None

    @property
    def causation_id(self) -> str | None:
        value = self.metadata.get("causation_id")
        return str(value) if value is not None else None

    @property
    def caused_by_its_command(self) -> bool:
        """Whether its cause is its own command (a direct command's events: their causation
        id is the command's id, which is the command's first event's id), not another
        event it reacted to."""
        cause = self.metadata.get("causation_id")
        return cause is not None and cause == self.metadata.get("command_id")

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
