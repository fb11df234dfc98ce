"""What the streams list reads from a store, in plain Python (no Qt): the filter rule,
the first page read with a store's open, and `StreamQuery`, one reading of the list (a
filter, an order, a moment) whose count and pages the model asks for on its loader.

In the present the store sorts and pages by keyset (each page continues after the cursor
of the last loaded row); as of a past position the rows are the streams as they stood then
(`incident_core.store.snapshots`' grouped queries), in aggregate id order.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from incident_core import EventStore, StreamInfo
from incident_core.ports.sorting import SortKey, stream_cursor
from incident_core.store.snapshots import stream_count_as_of, streams_as_of

__all__ = ["ID_ORDER", "LAST_ACTIVITY", "PAGE_SIZE", "FirstStreams", "StreamQuery",
           "pattern_matches", "read_first_streams"]

PAGE_SIZE = 500
LAST_ACTIVITY = SortKey("last_position", descending=True)
ID_ORDER = SortKey("aggregate_id", descending=False)  # the only order of the past


def pattern_matches(aggregate_id: str, pattern: str | None) -> bool:
    """The store's filter rule: a case-insensitive glob with * or ?, else a substring."""
    if not pattern:
        return True
    if "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(aggregate_id.lower(), pattern.lower())
    return pattern.lower() in aggregate_id.lower()


@dataclass(frozen=True)
class FirstStreams:
    """What the streams list first shows of a store: unfiltered, last activity first
    (`total` None: not counted yet, the model counts on its loader)."""

    total: int | None
    page: list[StreamInfo]
    aggregate_types: list[str]


def read_first_streams(store: EventStore) -> FirstStreams:
    """The first page and the aggregate types, not the count (blocking: on a worker)."""
    return FirstStreams(None, store.streams_sorted(LAST_ACTIVITY, limit=PAGE_SIZE),
                        store.aggregate_types())


@dataclass(frozen=True)
class StreamQuery:
    """One reading of the streams list: `store`'s streams of `aggregate_type` whose id
    matches `pattern`, in `sort` order, now (`as_of` None) or as of a past position.
    Its methods block: the model runs them on its loader."""

    store: EventStore
    aggregate_type: str | None
    pattern: str | None
    sort: SortKey
    as_of: int | None

    def count(self) -> int:
        """How many streams match (a pass over every stream: a moment at 10M events)."""
        if self.as_of is not None:
            return stream_count_as_of(self.store, self.as_of,
                                      aggregate_type=self.aggregate_type, pattern=self.pattern)
        return self.store.stream_count(aggregate_type=self.aggregate_type,
                                       pattern=self.pattern)

    def page(self, last: StreamInfo | None = None) -> list[StreamInfo]:
        """The page after `last` (None: the first page)."""
        kind, pattern = self.aggregate_type, self.pattern
        if self.as_of is not None:
            return streams_as_of(self.store, self.as_of, aggregate_type=kind, pattern=pattern,
                                 after_id=None if last is None else last.aggregate_id,
                                 limit=PAGE_SIZE)
        after = None if last is None else stream_cursor(last, self.sort)
        return self.store.streams_sorted(self.sort, after=after, aggregate_type=kind,
                                         pattern=pattern, limit=PAGE_SIZE)
