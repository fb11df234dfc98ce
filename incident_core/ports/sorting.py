"""Sorted keyset reads of the global log, the streams and projection rows.

A sorted page is asked for with a `SortKey` (a column and a direction) and, for every page
but the first, the cursor of the last row already shown: `(sort value, tiebreak)`, where
the tiebreak is unique (the event position, the aggregate id, the projection's key). The
next page holds the rows strictly after that cursor in the sort order, so paging never
uses OFFSET and costs the same on the first page and the millionth.

Projection columns may hold NULL: NULLs sort after every value ascending (and so before
every value descending, the exact reverse).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incident_core.envelope import RecordedEvent
from incident_core.ports.values import StreamInfo

__all__ = [
    "EVENT_SORT_COLUMNS",
    "STREAM_SORT_COLUMNS",
    "Cursor",
    "SortKey",
    "event_cursor",
    "event_sort_value",
    "null_last",
    "stream_cursor",
    "stream_sort_value",
]

EVENT_SORT_COLUMNS = ("position", "aggregate_id", "aggregate_type", "event_type", "version",
                      "recorded_at")
STREAM_SORT_COLUMNS = ("aggregate_id", "aggregate_type", "version", "event_count",
                       "last_recorded_at", "last_position")
Cursor = tuple[Any, Any]  # (sort value of the last row shown, its unique tiebreak)


@dataclass(frozen=True, slots=True)
class SortKey:
    """Sort by `column`, ascending unless `descending`."""

    column: str
    descending: bool = False

    def check(self, allowed: tuple[str, ...] | list[str]) -> None:
        if self.column not in allowed:
            raise ValueError(f"cannot sort by {self.column!r}: use one of "
                             f"{', '.join(allowed)}")


def event_sort_value(event: RecordedEvent, column: str) -> Any:
    if column == "recorded_at":
        return event.recorded_at_text
    return getattr(event, column)


def stream_sort_value(info: StreamInfo, column: str) -> Any:
    return getattr(info, column)


def event_cursor(event: RecordedEvent, sort: SortKey) -> Cursor:
    """The cursor that asks for the rows after `event` in `sort` order."""
    return event_sort_value(event, sort.column), event.position


def stream_cursor(info: StreamInfo, sort: SortKey) -> Cursor:
    return stream_sort_value(info, sort.column), info.aggregate_id


def null_last(value: Any, tiebreak: Any) -> tuple[bool, Any, Any]:
    """A total-order key that puts NULL after every value (for in-memory sorting)."""
    return (value is None, 0 if value is None else value, tiebreak)
