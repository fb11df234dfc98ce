"""An import's rows, built straight from the parsed envelopes of its lines: the same slim,
checksummed schema-4 rows `slim.slim_row` builds for an appended event (tests compare them
for random envelopes), without the pending-event round trip (no metadata JSON encoded,
decoded and split again per event).

The events handed on to the projections and listeners are `ImportedEvent`s holding their
metadata in the stored form, inflated on first use exactly as a replay inflates it: what
the import projects is what a replay of the store gives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json as _to_json

from incident_core.envelope import RecordedEvent
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.slim import (
    chain_columns,
    checksum,
    lift_ids,
    logical_metadata,
)
from incident_core.store.sql.stored_events import StoredEvent
from incident_core.store.sql.times import stored_time

if TYPE_CHECKING:
    from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["ImportedEvent", "append_envelopes", "encode_data", "event_rows"]

# The store's own encoder of metadata (slim's and the engine's: compact, ASCII, non-JSON
# values as text), which was the data's too before stores kept pydantic's text of it
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode


def encode_data(data: dict[str, Any]) -> str:
    """The data's text as a dispatch stores it: a dispatch stores `model_dump_json()` of
    the event, pydantic's compact JSON (non-ASCII kept, its own float forms: `1e-7`,
    `0.00003`), and that serialiser gives the same text back from the JSON values it wrote
    (`to_json(json.loads(text)) == text`), so an exported event is stored again byte for
    byte. Data pydantic cannot write (a lone surrogate, which no dispatch stores either)
    keeps the escaped form it always had."""
    try:
        return _to_json(data).decode()
    except ValueError:
        return _encode(data)


Held = tuple[str, str | None, str | None, str | None, str | None]


class ImportedEvent(StoredEvent):
    """An imported event as a replay reads it back: the metadata kept as stored (the JSON
    without the lifted ids and command type, the three id columns, the command type) and
    inflated when first asked for."""

    __slots__ = ()

    def __init__(self, position: int, envelope: dict[str, Any], held: Held) -> None:
        super().__init__(position, envelope["event_id"], envelope["aggregate_id"],
                         envelope["aggregate_type"], envelope["event_type"],
                         envelope["version"], envelope["recorded_at"], envelope["data"],
                         held[0], envelope["schema_version"])
        self._metadata = held


def split_metadata(event_id: str, metadata: dict[str, Any]) -> tuple[str, Held]:
    """(the logical metadata JSON the checksum covers, what the row stores: the JSON
    without the lifted ids and command type, the id columns in CHAIN order, the command
    type) — what `slim.split`, `chain_columns` and `lift_type` give, from the dict."""
    rest = dict(metadata)
    ids = lift_ids(rest)
    command_type = None
    if rest and next(reversed(rest)) == "command_type":
        value = rest["command_type"]
        if type(value) is str and value:
            command_type = value
            del rest["command_type"]
    stored = _encode(rest) if rest else "{}"
    c1, c2, c3 = chain_columns(event_id, ids)
    return _logical(stored, command_type), (stored, c1, c2, c3, command_type)


_logicals: dict[tuple[str, str | None], str] = {}


def _logical(stored: str, command_type: str | None) -> str:
    """`logical_metadata`, remembered for the few (stored, command type) pairs an import's
    events share (most store '{}' and one of a handful of command types)."""
    if command_type is None:
        return stored
    found = _logicals.get((stored, command_type))
    if found is None:
        if len(_logicals) >= 256:
            _logicals.clear()
        found = _logicals[stored, command_type] = logical_metadata(stored, command_type)
    return found


def append_envelopes(tx: SqlTransaction,
                     envelopes: Sequence[dict[str, Any]]) -> list[RecordedEvent] | None:
    """Append an import's checked envelopes as rows built straight from them, after the
    head (`EventLogTransaction.append_envelopes`); None on a store of an older schema
    (its rows are not these: the caller appends pending events, migrated as they go)."""
    if tx.store.schema_version != SCHEMA_VERSION:
        return None
    rows, streams, recorded = event_rows(envelopes, tx.head() + 1)
    tx.append_rows(rows, streams)
    return recorded


def event_rows(envelopes: Sequence[dict[str, Any]], first: int,
               ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[RecordedEvent]]:
    """(the rows of checked envelopes at positions `first`, `first` + 1, ..., the stream
    entries they touch, the events as recorded)."""
    rows: list[dict[str, Any]] = []
    streams: dict[str, dict[str, Any]] = {}
    recorded: list[RecordedEvent] = []
    position = first
    for e in envelopes:
        event_id, aggregate_id, recorded_at = e["event_id"], e["aggregate_id"], e["recorded_at"]
        logical, held = split_metadata(event_id, e["metadata"])
        data = encode_data(e["data"])
        row = {"position": position, "event_id": event_id, "aggregate_id": aggregate_id,
               "aggregate_type": e["aggregate_type"], "event_type": e["event_type"],
               "version": e["version"], "recorded_at": stored_time(recorded_at),
               "data": data, "metadata": held[0], "schema_version": e["schema_version"],
               "command_id": held[1], "causation_id": held[2], "correlation_id": held[3],
               "command_type": held[4]}
        row["checksum"] = checksum(position, event_id, aggregate_id, e["aggregate_type"],
                                   e["event_type"], e["version"], recorded_at, data, logical,
                                   e["schema_version"], held[1], held[2], held[3])
        rows.append(row)
        recorded.append(ImportedEvent(position, e, held))
        _touch(streams, e, position)
        position += 1
    return rows, streams, recorded


def _touch(streams: dict[str, dict[str, Any]], envelope: dict[str, Any], position: int) -> None:
    """The stream entry of `envelope`'s aggregate, as `SqlTransaction.append` keeps it."""
    entry = streams.get(envelope["aggregate_id"])
    if entry is None:
        streams[envelope["aggregate_id"]] = {
            "aggregate_id": envelope["aggregate_id"],
            "aggregate_type": envelope["aggregate_type"], "version": envelope["version"],
            "event_count": 1, "last_recorded_at": envelope["recorded_at"],
            "last_position": position}
    else:
        entry["version"] = envelope["version"]
        entry["event_count"] += 1
        entry["last_recorded_at"] = envelope["recorded_at"]
        entry["last_position"] = position
