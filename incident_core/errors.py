"""The library's own exception hierarchy: callers never see driver exceptions."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConcurrencyError",
    "CorruptStoreError",
    "IncidentError",
    "InvalidCommand",
    "NewerSchemaError",
    "NotAStoreError",
    "ReadOnlyError",
    "StoreError",
    "StoreNotFoundError",
    "UnknownCommand",
    "UnknownEventType",
    "UnknownProjection",
]


class IncidentError(Exception):
    """Base class of every error Incident raises on purpose."""


class StoreError(IncidentError):
    """The store cannot be used: missing, foreign, corrupt, newer, or the database failed."""


class StoreNotFoundError(StoreError):
    """A read was asked of a store that does not exist (nothing is created)."""


class NotAStoreError(StoreError):
    """The file or database is not an Incident store (it is left untouched)."""


class CorruptStoreError(StoreError):
    """The file looks like a store but cannot be read."""


class NewerSchemaError(StoreError):
    """The store was written by a newer Incident with a schema this version cannot read."""


class ReadOnlyError(StoreError):
    """A write was attempted on a store opened read-only."""


class ConcurrencyError(IncidentError):
    """Another writer appended to the same aggregate version first."""

    def __init__(self, aggregate_id: str, version: int) -> None:
        super().__init__(f"aggregate {aggregate_id!r} already has version {version}")
        self.aggregate_id = aggregate_id
        self.version = version


class UnknownCommand(IncidentError):
    """The domain has no command of that type."""

    def __init__(self, command_type: str, known: list[str]) -> None:
        super().__init__(f"unknown command type {command_type!r}; known: {', '.join(known)}")
        self.command_type = command_type
        self.known = known


class InvalidCommand(IncidentError):
    """The command data failed validation; `details` lists field-level errors."""

    def __init__(self, command_type: str, details: list[dict[str, Any]]) -> None:
        summary = "; ".join(f"{format_loc(d['loc'])}: {d['msg']}" for d in details)
        super().__init__(f"invalid {command_type}: {summary}")
        self.command_type = command_type
        self.details = details


def format_loc(loc: Any) -> str:
    """A field path as a user writes it: `("legs", 1, "amount")` → `legs[1].amount`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<root>"


class UnknownEventType(IncidentError):
    """A recorded event's type is not part of the loaded domain."""

    def __init__(self, event_type: str) -> None:
        super().__init__(f"event type {event_type!r} is not known to this domain")
        self.event_type = event_type


class UnknownProjection(IncidentError):
    """No projection of that name in the domain."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown projection {name!r}; known: {', '.join(known)}")
        self.name = name
        self.known = known


class DomainDefinitionError(IncidentError):
    """A domain is defined inconsistently (raised when the `Domain` is built): a
    schema_version bump without its upcasters, an upcaster for a version that does not need
    one, an aggregate id type without a canonical text form."""


class NewerEventSchemaError(StoreError):
    """A stored event has a schema_version newer than the loaded domain's event class: the
    store was written by a newer version of the domain code."""

    def __init__(self, event_type: str, stored: int, known: int) -> None:
        super().__init__(f"stored {event_type} event has schema_version {stored}, newer than "
                         f"this domain's {event_type}.schema_version {known}; load the newer "
                         "domain code")
        self.event_type = event_type
        self.stored = stored
        self.known = known
