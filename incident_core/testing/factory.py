"""What a contract check needs from the adapter under test (a `StoreFactory`), the `store`
fixture every check uses, and helpers to make events and projection specs."""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator

import pytest

from incident_core.envelope import PendingEvent, format_time, utc_now
from incident_core.ports import EventStore
from incident_core.projections import ColumnSpec, ProjectionSpec

__all__ = ["SPEC", "ContractBase", "StoreFactory", "append", "pending"]

SPEC = ProjectionSpec("things", "aggregate_id", (
    ColumnSpec("aggregate_id", "text", False), ColumnSpec("count", "integer", False),
    ColumnSpec("label", "text", True), ColumnSpec("ratio", "float", True),
    ColumnSpec("flag", "boolean", True)))


class StoreFactory(ABC):
    """Opens stores of the adapter under test."""

    @abstractmethod
    def create(self) -> EventStore:
        """A fresh, empty, writable store (each call a new one)."""

    @abstractmethod
    def read_only(self, store: EventStore) -> EventStore:
        """A read-only handle on the data of `store` (closed by the caller; it may be
        `store` itself, switched to read-only)."""


class ContractBase:
    """The fixture the checks share; the test class provides `store_factory`."""

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> Iterator[EventStore]:
        """A fresh, empty, writable store of the adapter under test."""
        opened = store_factory.create()
        try:
            yield opened
        finally:
            opened.close()


def pending(aggregate_id: str, version: int, event_type: str = "Happened",
            data: dict[str, object] | None = None, *, when: str | None = None,
            causation: str | None = None) -> PendingEvent:
    """An event to append: aggregate type "Thing", correlation id "corr", causation id
    `causation` (default "cmd")."""
    meta = {"correlation_id": "corr", "causation_id": causation or "cmd"}
    return PendingEvent(str(uuid.uuid4()), aggregate_id, "Thing", event_type, version,
                        when or format_time(utc_now()), json.dumps(data or {"n": version}),
                        json.dumps(meta, separators=(",", ":")), 1, "corr", causation)


def append(store: EventStore, *events: PendingEvent) -> None:
    """Append `events` in one write transaction."""
    with store.transaction() as tx:
        tx.append(list(events))
