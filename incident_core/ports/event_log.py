"""The event log port: append in a write transaction, read the global log and streams,
wait for other writers' commits. The role every adapter plays first (eventsourcing's
AggregateRecorder < ApplicationRecorder, here in one)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager

from incident_core.envelope import RecordedEvent
from incident_core.ports.transaction import EventLogTransaction
from incident_core.ports.values import EventFilter, StreamRow

__all__ = ["EventLog"]


class EventLog(ABC):
    """An append-only log of events with global positions and per-stream versions."""

    dialect: str = "abstract"  # the adapter's name, for display ("memory", "sqlite", ...)
    # Commits cost a durable write (fsync, a round trip), so concurrent commands gain from
    # sharing one: then the transactions support `savepoint()`.
    group_commit: bool = False
    # True once `close()` has run: from then on every read and write raises StoreError
    # ("the store is closed", `incident_core.store.closed`) and nothing is opened again.
    closed: bool = False

    def __init__(self, target: str, *, read_only: bool) -> None:
        self.target = target
        self.read_only = read_only

    @abstractmethod
    def transaction(self) -> AbstractContextManager[EventLogTransaction]:
        """Open a write transaction (raises ReadOnlyError on a read-only store)."""

    @abstractmethod
    def head(self) -> int:
        """The highest committed position (0 for an empty store)."""

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

    def iter_undecoded_events(self, *, after_position: int = 0, up_to: int | None = None,
                              batch_size: int = 5000) -> Iterator[list[RecordedEvent]]:
        """`iter_events` for a reader that decodes each event's data itself (a rebuild's
        fold): an adapter may leave each event's data as its stored text until `data` is
        asked for (the same dict then). By default, `iter_events`."""
        return self.iter_events(after_position=after_position, up_to=up_to,
                                batch_size=batch_size)

    @abstractmethod
    def read_stream(self, aggregate_id: str, *, after_version: int = 0,
                    to_version: int | None = None,
                    limit: int | None = None) -> list[RecordedEvent]:
        ...

    def read_stream_rows(self, aggregate_id: str, *, after_version: int = 0,
                         to_version: int | None = None) -> list[StreamRow]:
        """The stream's events after `after_version` up to `to_version` as a fold needs them
        (`StreamRow`), in version order: no envelope, no metadata. Loading an aggregate
        reads this; an adapter that keeps the data as text gives the text."""
        return [(e.version, e.aggregate_type, e.event_type, e.schema_version, e.data)
                for e in self.read_stream(aggregate_id, after_version=after_version,
                                          to_version=to_version)]

    @abstractmethod
    def get_event(self, event_id: str) -> RecordedEvent | None:
        ...

    @abstractmethod
    def events_with_metadata(self, key: str, value: str,
                             limit: int = 1000) -> list[RecordedEvent]:
        """Events whose metadata[key] == value (key: 'command_id', 'causation_id' or
        'correlation_id')."""

    @abstractmethod
    def wait_for_change(self, known_head: int, timeout: float) -> int:
        """Block until the head moves past `known_head` or `timeout` seconds pass; return
        the head. Safe to call from a worker thread."""

    @abstractmethod
    def close(self) -> None:
        """Release what the store holds and set `closed` (idempotent)."""
