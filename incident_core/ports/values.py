"""The values the store ports speak in: filters of the log, stream summaries, stored
aggregate snapshots and row-lineage entries. Plain frozen dataclasses, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["EventFilter", "LineageEntry", "StoredSnapshot", "StreamInfo", "StreamRow"]

# One event of a stream as a fold needs it (`EventLog.read_stream_rows`): (version,
# aggregate type, event type, schema version, data), the data as the stored JSON text where
# the adapter keeps text (the decoder validates it straight into the event model), else
# already decoded.
StreamRow = tuple[int, str, str, int, str | dict[str, Any]]


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """An aggregate's state folded up to `version`, as JSON of its state model, usable only
    for the `fingerprint` of that model (see `incident_core.engine.aggregate_snapshots`)."""

    aggregate_id: str
    aggregate_type: str
    version: int
    fingerprint: str
    state: str
    taken_at: str


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One aggregate's stream, as the streams panel and `incident streams` show it."""

    aggregate_id: str
    aggregate_type: str
    version: int
    event_count: int
    last_recorded_at: str
    last_position: int

    def to_json(self) -> dict[str, Any]:
        return {
            "aggregate_id": self.aggregate_id,
            "aggregate_type": self.aggregate_type,
            "version": self.version,
            "event_count": self.event_count,
            "last_recorded_at": self.last_recorded_at,
        }


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Filters of the global log. Times are ISO-8601 UTC text (the store's own format)."""

    aggregate_id: str | None = None
    event_types: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    text: str | None = None
    correlation_id: str | None = None  # events of one conversation (a command and its saga)

    @property
    def is_empty(self) -> bool:
        return not (self.aggregate_id or self.event_types or self.since or self.until
                    or self.text or self.correlation_id)


@dataclass(frozen=True, slots=True)
class LineageEntry:
    """One change of one projection row: the event at `position` turned `before` into
    `after` (None: the row did not exist / was deleted). Recorded by the projector, see
    `incident_core.engine.lineage`."""

    projection: str
    row_key: str
    position: int
    event_id: str
    event_type: str
    recorded_at: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def kind(self) -> str:
        return "created" if self.before is None else "deleted" if self.after is None \
            else "changed"

    @property
    def changed_fields(self) -> list[str]:
        """Fields whose value differs (all of them for a created or deleted row)."""
        before, after = self.before or {}, self.after or {}
        return [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]

    def to_json(self) -> dict[str, Any]:
        return {"projection": self.projection, "row_key": self.row_key,
                "position": self.position, "event_id": self.event_id,
                "event_type": self.event_type, "recorded_at": self.recorded_at,
                "kind": self.kind, "changed": self.changed_fields,
                "before": self.before, "after": self.after}

    @classmethod
    def from_stored(cls, stored: dict[str, Any], event_type: str,
                    recorded_at: str) -> LineageEntry:
        """From a stored record (`LineageTrail.entries` form) and its event's type/time."""
        before, after = stored["values_before"], stored["values_after"]
        return cls(stored["projection"], stored["row_key"], int(stored["position"]),
                   stored["event_id"], event_type, recorded_at,
                   None if before is None else json.loads(before),
                   None if after is None else json.loads(after))
