"""Turning decided events into what is recorded: each event is encoded once, checked in the
same pass (values the store could not give back are refused) and decoded back, so what the
engine folds, projects and hands to sagas is what a replay will see."""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from incident_core.domain import Aggregate, Domain
from incident_core.engine.immutable import copy_data
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import PendingEvent, canonical_time, now_text
from incident_core.errors import IncidentError, StoreError
from incident_core.ids import new_id
from incident_core.messages import Command, Event
from incident_core.values import (
    NUL_PROBLEM,
    ValueRefused,
    aggregate_key,
    encode_checked,
    encode_data,
    find_unrepresentable,
    format_path,
    nul_in_columns,
)

__all__ = [
    "dumps", "envelope_from", "pending_events", "pending_from_envelope", "pending_of",
]

_dumps_finite = json.JSONEncoder(separators=(",", ":"), default=str, allow_nan=False).encode
dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode


def pending_events(domain: Domain, aggregate: Aggregate[Any], command: Command, version: int,
                   events: Sequence[Event], metadata: dict[str, Any],
                   first_id: str | None = None) -> tuple[list[PendingEvent], list[Event]]:
    """The events to record and the same events as a replay will decode them (live equals
    replay by construction). `first_id`: the first event's id, made up front (a direct
    command's id is its first event's, so the slim row stores no command id for it)."""
    recorded_at = now_text()
    command_type = type(command).__name__
    meta = {**metadata, "command_type": command_type}
    try:
        meta_json, plain = _meta_json(meta)
    except ValueError as exc:  # a non-finite float (JSON has no form for it), a cycle
        found = find_unrepresentable(metadata)
        if found is None:
            raise IncidentError(f"the metadata cannot be stored as JSON: {exc}") from None
        raise ValueRefused(command_type, ("metadata", *found[0]), found[1]) from None
    key = aggregate_key(command.aggregate_id)
    if (nul := nul_in_columns(key, meta)) is not None:
        raise ValueRefused(command_type, nul, NUL_PROBLEM)
    pending, decoded = [], []
    event_id = first_id
    for offset, event in enumerate(events, start=1):
        event_type = type(event).__name__
        text, data = _encode(event, command_type)
        schema_version = type(event).schema_version
        decoded.append(_roundtrip(domain, event_type, copy_data(type(event), data),
                                  schema_version))  # shares nothing with `data`
        pending.append(PendingEvent(
            event_id or new_id(), key, aggregate.name, event_type, version + offset,
            recorded_at, text, meta_json, schema_version, meta.get("correlation_id"),
            meta.get("causation_id"), data, plain))
        event_id = None
    return pending, decoded


def _meta_json(meta: dict[str, Any]) -> tuple[str, dict[str, str] | None]:
    """(`_dumps_finite(meta)`, `meta` when every key and value is a string, else None);
    the text of such metadata (the engine's ids and command type) is joined from the
    encoder's own string quoting."""
    parts = []
    for key, value in meta.items():
        if type(value) is not str or type(key) is not str:
            return _dumps_finite(meta), None
        parts.append(f"{encode_basestring_ascii(key)}:{encode_basestring_ascii(value)}")
    return "{" + ",".join(parts) + "}", meta


def _encode(event: Event, command_type: str) -> tuple[str, dict[str, Any]]:
    try:
        return encode_checked(event, command_type, (type(event).__name__,))
    except IncidentError:
        raise
    except Exception as exc:  # a value pydantic cannot serialise
        raise DomainCodeError(f"serialising {type(event).__name__}", exc) from exc


def _roundtrip(domain: Domain, event_type: str, data: dict[str, Any],
               schema_version: int) -> Event:
    """`domain.decode`: an event at its type's schema version (what a new event always is)
    by the model's validator, as `decode` runs it (no upcaster applies)."""
    try:
        etype = domain.event_types.get(event_type)
        if etype is not None and etype.schema_version == schema_version:
            event: Event = etype.__pydantic_validator__.validate_python(data)
            return event
        return domain.decode(event_type, data, schema_version)
    except Exception as exc:
        raise DomainCodeError(f"decoding the new {event_type} from its own JSON",
                              exc) from exc


def envelope_from(envelope: dict[str, Any]) -> dict[str, Any]:
    """An event recorded elsewhere (an export's envelope) in the form it is appended as it
    was (`EventLogTransaction.append_envelopes`): ids and types as text, version and schema
    version as integers, the time in the store's form, the metadata a dict; StoreError if
    it is not an envelope or its data holds a value the store could not give back."""
    found = find_unrepresentable(envelope.get("data"))
    if found is not None:
        raise StoreError(f"event {envelope.get('event_id')}: data.{format_path(found[0])}: "
                         f"{found[1]}")
    try:
        metadata = envelope.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise TypeError("metadata (not an object)")
        return {"event_id": str(envelope["event_id"]),
                "aggregate_id": str(envelope["aggregate_id"]),
                "aggregate_type": str(envelope["aggregate_type"]),
                "event_type": str(envelope["event_type"]), "version": int(envelope["version"]),
                "recorded_at": _canonical(str(envelope["recorded_at"])),
                "schema_version": int(envelope.get("schema_version", 1)),
                "data": envelope["data"], "metadata": metadata}
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"not an event envelope: missing or bad {exc}") from None


def _canonical(text: str) -> str:
    """`canonical_time(text)`; a text in the store's form within the last second found in
    that form is taken as it is (an export's events share seconds: no parse per event)."""
    global _canonical_second  # noqa: PLW0603 - a one-entry memo, replaced whole (thread-safe)
    if text[:19] == _canonical_second and len(text) == 32 and text[19] == "." \
            and text.endswith("+00:00") and text.isascii() and text[20:26].isdigit():
        return text
    value = canonical_time(text)
    if value is text:  # already in the store's form: its second is a real one
        _canonical_second = text[:19]
    return value


_canonical_second = ""


def pending_of(envelope: dict[str, Any]) -> PendingEvent:
    """The pending event of an envelope in `envelope_from`'s form: data and metadata
    encoded once, as the store keeps them."""
    metadata, data = envelope["metadata"], envelope["data"]
    return PendingEvent(
        envelope["event_id"], envelope["aggregate_id"], envelope["aggregate_type"],
        envelope["event_type"], envelope["version"], envelope["recorded_at"], encode_data(data),
        dumps(metadata), envelope["schema_version"], metadata.get("correlation_id"),
        metadata.get("causation_id"), data)


def pending_from_envelope(envelope: dict[str, Any]) -> PendingEvent:
    """An event recorded elsewhere (an export's envelope), to append as it was: its id,
    version, time, data and metadata kept."""
    return pending_of(envelope_from(envelope))
