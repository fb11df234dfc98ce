"""The write side of the store, by role: what a write transaction does to the event log,
to projections, to the saga ledger and to aggregate snapshots.

A write transaction holds the store's single-writer lock (BEGIN IMMEDIATE on SQLite, a
transaction-scoped advisory lock on PostgreSQL, a mutex in memory) and commits or rolls
back as one, so global positions are assigned and committed in the same order.
`StoreTransaction` is all four roles together: what `EventStore.transaction()` yields.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.ports.values import StoredSnapshot, StreamRow
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.projections.definition import ProjectionSpec

__all__ = [
    "CheckpointTransaction",
    "EventLogTransaction",
    "ProjectionTransaction",
    "SagaTransaction",
    "SnapshotTransaction",
    "StoreTransaction",
]


class EventLogTransaction(ABC):
    """Appending to the log and reading it back, own writes included."""

    @abstractmethod
    def head(self) -> int:
        """The highest position recorded so far (0 for an empty store)."""

    @abstractmethod
    def read_stream(self, aggregate_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        ...

    def read_stream_rows(self, aggregate_id: str, *,
                         after_version: int = 0) -> list[StreamRow]:
        """`read_stream` as a fold needs it (`EventLog.read_stream_rows`), own writes
        included."""
        return [(e.version, e.aggregate_type, e.event_type, e.schema_version, e.data)
                for e in self.read_stream(aggregate_id, after_version=after_version)]

    @abstractmethod
    def append(self, events: Sequence[PendingEvent]) -> list[RecordedEvent]:
        """Record events; raise ConcurrencyError if an (aggregate_id, version) is taken
        (now or, for an adapter that buffers, at the next read or `flush`)."""

    @abstractmethod
    def events_after(self, position: int, *, event_types: Sequence[str] | None = None,
                     limit: int | None = None) -> list[RecordedEvent]:
        ...

    @abstractmethod
    def events_caused_by(self, causation_id: str) -> list[RecordedEvent]:
        """Events whose causation id is this (a command id: the command's own events)."""

    @abstractmethod
    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        ...

    @abstractmethod
    def flush(self) -> None:
        """Write what this transaction still buffers, so a failing write shows up now."""

    def append_envelopes(self, envelopes: Sequence[dict[str, Any]]
                         ) -> list[RecordedEvent] | None:
        """Append an import's checked envelopes (`RecordedEvent.to_json()` form, no
        position; ids, versions, times, data and metadata kept) straight from the parsed
        dicts, at the positions after `head()`, when the adapter has a faster way than
        `append`; None when it has not (then they are appended as pending events)."""
        return None

    def bulk_load(self) -> AbstractContextManager[None]:
        """A block in which this transaction appends a large import: the adapter may defer
        work (index building) to the block's end. Only for a transaction that rolls back
        if the block raises."""
        return nullcontext()

    def savepoint(self) -> AbstractContextManager[None]:
        """A block undone alone if it raises, the rest of the transaction kept (group
        commit). Only adapters whose store says `group_commit` have it."""
        raise NotImplementedError(f"{type(self).__name__} has no savepoints")


class CheckpointTransaction(ABC):
    """How far each projection / process manager has read the log."""

    @abstractmethod
    def checkpoint(self, name: str) -> int | None:
        """The last position applied by a projection / process manager (None: unknown)."""

    @abstractmethod
    def set_checkpoint(self, name: str, position: int) -> None:
        ...


class ProjectionTransaction(CheckpointTransaction):
    """Projection rows, their tables and their row lineage."""

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
    def ensure_projection(self, spec: ProjectionSpec) -> bool:
        """Create the projection's table if needed; recreate it empty (checkpoint 0) when its
        shape changed. Return True when it was (re)created."""

    @abstractmethod
    def replace_projection(self, spec: ProjectionSpec, rows: Iterable[dict[str, Any]],
                           checkpoint: int) -> None:
        """Swap in a complete new set of rows and its checkpoint (used by rebuild)."""

    @abstractmethod
    def record_lineage(self, entries: Sequence[tuple[str, str, int]]) -> None:
        """Add lineage index entries: (projection, row key, position) of each event a
        custom-key handler applied (see `incident_core.engine.lineage`); an entry already
        there is kept."""

    @abstractmethod
    def clear_lineage(self, projection: str) -> None:
        """Forget a projection's lineage (its rows are being rebuilt)."""

    @abstractmethod
    def rename_lineage(self, old: str, new: str) -> None:
        """File the lineage recorded under `old` under `new` (a staged rebuild's)."""

    @abstractmethod
    def mark_lineage(self, projection: str, start: int | None) -> None:
        """Say from where a projection's index is complete: `start` (kept if already set),
        or None: not at all (its lineage is off)."""


class SagaTransaction(CheckpointTransaction):
    """The process side: parked saga steps and rejected saga commands."""

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


class SnapshotTransaction(ABC):
    """Aggregate snapshots written with the events they fold."""

    @abstractmethod
    def save_snapshot(self, snapshot: StoredSnapshot) -> None:
        """Record an aggregate snapshot with this transaction (dropping that aggregate's
        snapshots of another fingerprint)."""


class StoreTransaction(EventLogTransaction, ProjectionTransaction, SagaTransaction,
                       SnapshotTransaction):
    """Every role of a write transaction: what `EventStore.transaction()` yields."""
