"""Idempotent commands: a caller's key becomes the command id (and so the causation id of
the command's own events, an indexed column), so a retry finds what was recorded."""

from __future__ import annotations

from collections.abc import Callable

from incident_core.domain import Command
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.ports import StoreTransaction
from incident_core.values import aggregate_key

__all__ = ["earlier", "earlier_in"]

Search = Callable[[str, str], list[RecordedEvent]]


def _mine(events: list[RecordedEvent], key: str, command: Command) -> list[RecordedEvent]:
    """The events the command with this id recorded; refuse a key reused for another
    command (a different type or aggregate)."""
    found = [e for e in events if e.metadata.get("command_id") == key]
    if found:
        first = found[0]
        if (first.metadata.get("command_type") != type(command).__name__
                or first.aggregate_id != aggregate_key(command.aggregate_id)):
            raise IncidentError(f"the idempotency key {key!r} was used for "
                                f"{first.metadata.get('command_type')} on "
                                f"{first.aggregate_id!r}, not for this command")
    return found


def _checked(key: str | None) -> str | None:
    if key is not None and not key.strip():
        raise IncidentError("an idempotency key must not be empty")
    return key


def earlier(search: Search, key: str | None, command: Command) -> list[RecordedEvent]:
    """What a command with this key recorded before (committed reads; [] if nothing)."""
    if _checked(key) is None:
        return []
    assert key is not None
    return _mine(search("causation_id", key), key, command)


def earlier_in(tx: StoreTransaction, key: str | None, command: Command) -> list[RecordedEvent]:
    """The same, under the write lock (two processes racing with one key record once)."""
    if key is None:
        return []
    return _mine(tx.events_caused_by(key), key, command)
