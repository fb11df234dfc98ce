"""Incident: event sourcing and CQRS made simple.

Commands are validated pydantic models; aggregates decide events with pure functions;
events are appended to a store (memory, SQLite, PostgreSQL); projections and process
managers react to them.
"""

from incident_core.app import (
    AggregateState,
    Application,
    Conflicted,
    DispatchResult,
    DomainCodeError,
    Preview,
)
from incident_core.domain import Aggregate, Command, Decision, Domain, Event, Rejection, State
from incident_core.envelope import RecordedEvent
from incident_core.errors import (
    ConcurrencyError,
    CorruptStoreError,
    IncidentError,
    InvalidCommand,
    NewerSchemaError,
    NotAStoreError,
    ReadOnlyError,
    StoreError,
    StoreNotFoundError,
    UnknownCommand,
    UnknownEventType,
    UnknownProjection,
)
from incident_core.process import Accepted, Outcome, ProcessManager, Rejected, SagaContext
from incident_core.projections import DELETE, Projection
from incident_core.store import EventFilter, EventStore, StreamInfo, open_store

__version__ = "0.1.0"

__all__ = [
    "DELETE",
    "Accepted",
    "Aggregate",
    "AggregateState",
    "Application",
    "Command",
    "ConcurrencyError",
    "Conflicted",
    "CorruptStoreError",
    "Decision",
    "DispatchResult",
    "Domain",
    "DomainCodeError",
    "Event",
    "EventFilter",
    "EventStore",
    "IncidentError",
    "InvalidCommand",
    "NewerSchemaError",
    "NotAStoreError",
    "Outcome",
    "Preview",
    "ProcessManager",
    "Projection",
    "ReadOnlyError",
    "RecordedEvent",
    "Rejected",
    "Rejection",
    "SagaContext",
    "State",
    "StoreError",
    "StoreNotFoundError",
    "StreamInfo",
    "UnknownCommand",
    "UnknownEventType",
    "UnknownProjection",
    "__version__",
    "open_store",
]
