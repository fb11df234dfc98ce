"""Incident: event sourcing and CQRS made simple.

Commands are validated pydantic models; aggregates decide events with pure functions;
events are appended to a store (memory, SQLite, PostgreSQL); projections and process
managers react to them.

The public names below are imported on first use (PEP 562), so that `import incident_core`
(and with it the `incident` command's start) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from incident_core.domain import (
        Aggregate,
        Command,
        Decision,
        Domain,
        Event,
        Rejection,
        State,
    )
    from incident_core.engine.application import (
        AggregateState,
        Application,
        Conflicted,
        DispatchResult,
        DomainCodeError,
        Preview,
    )
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
    from incident_core.process import (
        Accepted,
        Outcome,
        ParkedStep,
        ProcessManager,
        Rejected,
        SagaContext,
    )
    from incident_core.projections import DELETE, Projection
    from incident_core.store import EventFilter, EventStore, StreamInfo, open_store
    from incident_core.values import ValueRefused

__version__ = "0.1.0"

_WHERE = {
    "incident_core.engine.application": ("AggregateState", "Application", "Conflicted",
                                         "DispatchResult", "DomainCodeError", "Preview"),
    "incident_core.domain": ("Aggregate", "Command", "Decision", "Domain", "Event",
                             "Rejection", "State"),
    "incident_core.envelope": ("RecordedEvent",),
    "incident_core.errors": ("ConcurrencyError", "CorruptStoreError", "IncidentError",
                             "InvalidCommand", "NewerSchemaError", "NotAStoreError",
                             "ReadOnlyError", "StoreError", "StoreNotFoundError",
                             "UnknownCommand", "UnknownEventType", "UnknownProjection"),
    "incident_core.process": ("Accepted", "Outcome", "ParkedStep", "ProcessManager",
                              "Rejected", "SagaContext"),
    "incident_core.values": ("ValueRefused",),
    "incident_core.projections": ("DELETE", "Projection"),
    "incident_core.store": ("EventFilter", "EventStore", "StreamInfo", "open_store"),
}

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
    "ParkedStep",
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
    "ValueRefused",
    "__version__",
    "open_store",
]


__getattr__, __dir__ = lazy_exports("incident_core", _WHERE, globals(), __all__)
