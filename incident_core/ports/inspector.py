"""The read-side queries only the inspector and the CLI need: streams, counts, the event
histogram, sorted keyset pages (see `incident_core.ports.sorting`) and row lineage. The
command path never calls these."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from incident_core.envelope import RecordedEvent
from incident_core.ports.sorting import Cursor, SortKey
from incident_core.ports.values import EventFilter, StreamInfo
from incident_core.projections.definition import ProjectionSpec

__all__ = ["InspectorQueries"]


class InspectorQueries(ABC):
    """Browsing a store: streams, types, activity over time, sorted pages, row history."""

    @abstractmethod
    def event_count(self) -> int:
        ...

    @abstractmethod
    def streams(self, *, aggregate_type: str | None = None, pattern: str | None = None,
                after_id: str | None = None, limit: int | None = None) -> list[StreamInfo]:
        """Streams ordered by aggregate id (keyset after `after_id`). `pattern` is a
        substring, or a glob when it contains * or ?."""

    @abstractmethod
    def stream_count(self, *, aggregate_type: str | None = None,
                     pattern: str | None = None) -> int:
        ...

    @abstractmethod
    def stream(self, aggregate_id: str) -> StreamInfo | None:
        ...

    @abstractmethod
    def aggregate_types(self) -> list[str]:
        ...

    @abstractmethod
    def event_types(self) -> list[str]:
        ...

    @abstractmethod
    def event_histogram(self, *, buckets: int = 60, aggregate_id: str | None = None,
                        since: str | None = None, until: str | None = None,
                        ) -> tuple[list[str], dict[str, list[int]]]:
        """Events over time (recorded in [since, until) when given): bucket start times
        and, per event type, a count per bucket. Buckets span just the data; a long
        stretch without events becomes one empty bucket (`histogram.compress_gaps`), so
        there may be fewer than `buckets`, of unequal widths."""

    @abstractmethod
    def read_events_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                           limit: int | None = None,
                           filter: EventFilter | None = None) -> list[RecordedEvent]:
        """A keyset page of the global log sorted by `sort` (tiebreak: position), holding
        the events after the cursor `after` = (sort value, position) of the last shown."""

    @abstractmethod
    def streams_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                       limit: int | None = None, aggregate_type: str | None = None,
                       pattern: str | None = None) -> list[StreamInfo]:
        """A keyset page of the streams sorted by `sort` (tiebreak: aggregate id)."""

    @abstractmethod
    def projection_rows_sorted(self, spec: ProjectionSpec, sort: SortKey, *,
                               after: Cursor | None = None,
                               limit: int | None = None) -> list[dict[str, Any]]:
        """A keyset page of a projection's rows sorted by one of its columns (tiebreak: the
        key; NULLs after every value ascending)."""

    @abstractmethod
    def lineage_events(self, projection: str, key: str, *,
                       until: int | None = None) -> list[RecordedEvent]:
        """The events the lineage index lists for one projection row (up to `until`), by
        position (see `incident_core.engine.lineage`)."""

    @abstractmethod
    def lineage_start(self, projection: str) -> int | None:
        """The position after which a projection's lineage index is complete (0: from the
        start); None when it is not (its lineage was off)."""
