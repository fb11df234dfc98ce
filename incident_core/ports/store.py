"""`EventStore`: every port role in one database, what the memory and SQL adapters
implement and what `open_store` returns. Code that needs one role can ask for just that
role (`EventLog`, `ProjectionStore`, `SagaLedger`, `SnapshotStore`, `InspectorQueries`).

The public methods of an adapter open their own (read) transaction; writes go through
`transaction()`, which yields a `StoreTransaction` holding the store's single-writer lock.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager

from incident_core.ports.event_log import EventLog
from incident_core.ports.inspector import InspectorQueries
from incident_core.ports.projection_store import ProjectionStore
from incident_core.ports.saga_ledger import SagaLedger
from incident_core.ports.snapshot_store import SnapshotStore
from incident_core.ports.transaction import StoreTransaction

__all__ = ["EventStore"]


class EventStore(EventLog, ProjectionStore, SagaLedger, SnapshotStore, InspectorQueries):
    """An event store and projection store in one database."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """Open a write transaction (raises ReadOnlyError on a read-only store)."""

    def interrupt(self, thread: int | None = None) -> int:
        """Stop the statements this store's reads are running on `thread` (its
        `threading.get_ident()`; None: every thread), from another thread: each such
        read fails at once with a `StoreError`. Writes are never interrupted. Returns how
        many reads were asked to stop; an adapter whose reads never wait on a database
        (memory) has none."""
        return 0

    # -- metadata ---------------------------------------------------------------------
    @abstractmethod
    def meta(self) -> dict[str, str]:
        """The store's key/value metadata (format, schema version, the domain it is for)."""

    @abstractmethod
    def add_meta(self, values: Mapping[str, str]) -> dict[str, str]:
        """Record keys not recorded yet (never overwrites); return the metadata after.
        Raises ReadOnlyError on a read-only store."""

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
