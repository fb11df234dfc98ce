"""The store port: one abstract event + projection store, mirrored by every adapter.

The public methods of an adapter open their own (read) transaction; writes go through
`transaction()`, which yields a `StoreTransaction` holding the store's single-writer lock
(BEGIN IMMEDIATE on SQLite, a transaction-scoped advisory lock on PostgreSQL, a mutex in
memory). Global positions are therefore assigned and committed in the same order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.projections.definition import ProjectionSpec

if TYPE_CHECKING:
    from incident_core.engine.lineage import LineageEntry
    from incident_core.store.sorting import Cursor, SortKey

__all__ = [
    "SCHEMA_VERSION",
    "STORE_FORMAT",
    "EventFilter",
    "EventStore",
    "StoreTransaction",
    "StoredSnapshot",
    "StreamInfo",
]

STORE_FORMAT = "incident-store"
SCHEMA_VERSION = 4  # 2: causation_id / correlation_id columns, event type index; 3: slim rows
# (ids stored once, partial indexes), a checksum per event; 4: recorded_at in microseconds


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


class StoreTransaction(ABC):
    """Work done while holding the store's write lock; committed or rolled back as one."""

    @abstractmethod
    def head(self) -> int:
        """The highest position recorded so far (0 for an empty store)."""

    @abstractmethod
    def read_stream(self, aggregate_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        ...

    @abstractmethod
    def append(self, events: Sequence[PendingEvent]) -> list[RecordedEvent]:
        """Record events; raise ConcurrencyError if an (aggregate_id, version) is taken."""

    @abstractmethod
    def events_after(self, position: int, *, event_types: Sequence[str] | None = None,
                     limit: int | None = None) -> list[RecordedEvent]:
        ...

    @abstractmethod
    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        ...

    @abstractmethod
    def get_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored rows of these keys (absent keys are left out)."""

    @abstractmethod
    def put_rows(self, spec: ProjectionSpec, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace rows by key."""

    @abstractmethod
    def delete_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> None:
        ...

    def get_row(self, spec: ProjectionSpec, key: str) -> dict[str, Any] | None:
        return self.get_rows(spec, [key]).get(key)

    def put_row(self, spec: ProjectionSpec, row: dict[str, Any]) -> None:
        self.put_rows(spec, [row])

    def delete_row(self, spec: ProjectionSpec, key: str) -> None:
        self.delete_rows(spec, [key])

    @abstractmethod
    def checkpoint(self, name: str) -> int | None:
        """The last position applied by a projection / process manager (None: unknown)."""

    @abstractmethod
    def set_checkpoint(self, name: str, position: int) -> None:
        ...

    @abstractmethod
    def ensure_projection(self, spec: ProjectionSpec) -> bool:
        """Create the projection's table if needed; recreate it empty (checkpoint 0) when its
        shape changed. Return True when it was (re)created."""

    @abstractmethod
    def replace_projection(self, spec: ProjectionSpec, rows: Iterable[dict[str, Any]],
                           checkpoint: int) -> None:
        """Swap in a complete new set of rows and its checkpoint (used by rebuild)."""

    @abstractmethod
    def events_caused_by(self, causation_id: str) -> list[RecordedEvent]:
        """Events whose causation id is this (a command id: the command's own events)."""

    # -- parked saga steps ------------------------------------------------------------
    @abstractmethod
    def park(self, step: ParkedStep) -> None:
        """Record (or replace) the parked step of (process manager, position)."""

    @abstractmethod
    def unpark(self, process_manager: str, position: int) -> None:
        """Forget a parked step (its retry succeeded)."""

    @abstractmethod
    def parked(self, process_manager: str, position: int) -> ParkedStep | None:
        ...

    @abstractmethod
    def record_saga_outcome(self, outcome: SagaOutcome) -> None:
        """Keep a command a saga step dispatched that the domain rejected."""

    # -- row lineage (incident_core.engine.lineage) --------------------------------------------
    @abstractmethod
    def record_lineage(self, entries: Sequence[dict[str, Any]]) -> None:
        """Store row changes (`LineageTrail.entries` records), replacing any of the same
        (projection, position)."""

    @abstractmethod
    def clear_lineage(self, projection: str) -> None:
        """Forget a projection's lineage (its rows are being rebuilt)."""

    @abstractmethod
    def rename_lineage(self, old: str, new: str) -> None:
        """File the lineage recorded under `old` under `new` (a staged rebuild's)."""

    @abstractmethod
    def save_snapshot(self, snapshot: StoredSnapshot) -> None:
        """Record an aggregate snapshot with this transaction (dropping that aggregate's
        snapshots of another fingerprint)."""

    @abstractmethod
    def flush(self) -> None:
        """Write what this transaction still buffers, so a failing write shows up now."""


class EventStore(ABC):
    """An event store and projection store in one database."""

    dialect: str = "abstract"

    def __init__(self, target: str, *, read_only: bool) -> None:
        self.target = target
        self.read_only = read_only
        self.memory_meta: dict[str, str] = {}  # the metadata of a store without a database

    # -- metadata ---------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """The store's key/value metadata (format, schema version, the domain it is for)."""
        from incident_core.store.sql.meta import read_meta

        return read_meta(self)

    def add_meta(self, values: Mapping[str, str]) -> dict[str, str]:
        """Record keys not recorded yet (never overwrites); return the metadata after."""
        from incident_core.store.sql.meta import add_meta

        return add_meta(self, values)

    def projection_signatures(self) -> dict[str, str]:
        """Projection name → fingerprint of the row shape its table was made with."""
        from incident_core.store.sql.meta import projection_signatures

        return projection_signatures(self)

    # -- writes -----------------------------------------------------------------------
    @abstractmethod
    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """Open a write transaction (raises ReadOnlyError on a read-only store)."""

    # -- reads ------------------------------------------------------------------------
    @abstractmethod
    def head(self) -> int:
        ...

    @abstractmethod
    def event_count(self) -> int:
        ...

    @abstractmethod
    def read_events(self, *, after_position: int = 0, before_position: int | None = None,
                    limit: int | None = None, filter: EventFilter | None = None,
                    descending: bool = False) -> list[RecordedEvent]:
        """A keyset page of the global log (ascending after `after_position`, or
        descending before `before_position`)."""

    @abstractmethod
    def iter_events(self, *, after_position: int = 0, up_to: int | None = None,
                    batch_size: int = 5000) -> Iterator[list[RecordedEvent]]:
        """Every event in position order, in batches (replay, export, verify)."""

    @abstractmethod
    def read_stream(self, aggregate_id: str, *, after_version: int = 0,
                    to_version: int | None = None,
                    limit: int | None = None) -> list[RecordedEvent]:
        ...

    @abstractmethod
    def get_event(self, event_id: str) -> RecordedEvent | None:
        ...

    @abstractmethod
    def events_with_metadata(self, key: str, value: str,
                             limit: int = 1000) -> list[RecordedEvent]:
        """Events whose metadata[key] == value (key: 'causation_id' or 'correlation_id')."""

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
    def projection_rows(self, spec: ProjectionSpec, *, after_key: str | None = None,
                        limit: int | None = None) -> list[dict[str, Any]]:
        ...

    @abstractmethod
    def projection_row_count(self, spec: ProjectionSpec) -> int:
        ...

    # -- sorted keyset reads (see incident_core.store.sorting) --------------------------
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
    def checkpoints(self) -> dict[str, int]:
        ...

    @abstractmethod
    def parked_steps(self, *, include_skipped: bool = False,
                     process_manager: str | None = None) -> list[ParkedStep]:
        """Parked saga steps, by process manager then position (skipped ones on request)."""

    @abstractmethod
    def saga_outcomes(self, *, correlation_id: str) -> list[SagaOutcome]:
        """Rejected commands of saga steps in one conversation, in recording order."""

    @abstractmethod
    def row_history(self, projection: str, key: str) -> list[LineageEntry]:
        """Every recorded change of one projection row, by position (indexed)."""

    @abstractmethod
    def rows_changed_at(self, position: int, *,
                        projections: Sequence[str] | None = None) -> list[LineageEntry]:
        """The projection rows the event at `position` changed, among `projections`
        (default: every projection with a checkpoint); by primary key."""

    @abstractmethod
    def wait_for_change(self, known_head: int, timeout: float) -> int:
        """Block until the head moves past `known_head` or `timeout` seconds pass; return
        the head. Safe to call from a worker thread."""

    def latest_snapshot(self, aggregate_id: str, aggregate_type: str, fingerprint: str,
                        at_version: int | None = None) -> StoredSnapshot | None:
        """The newest snapshot of that type and fingerprint at or before `at_version`."""
        return None

    def snapshot_versions(self, aggregate_ids: Sequence[str]) -> dict[str, int]:
        """The newest snapshot version of each of these aggregates that has one."""
        return {}

    @abstractmethod
    def close(self) -> None:
        ...

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
