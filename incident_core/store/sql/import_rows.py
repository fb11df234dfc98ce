"""An import's rows, built straight from the parsed envelopes of its lines: the same slim,
checksummed schema-4 rows `slim.slim_row` builds for an appended event (tests compare them
for random envelopes), without the pending-event round trip (no metadata JSON encoded,
decoded and split again per event). The data's text is the one a dispatch stores for the
event (`encode_data`), so an event a dispatch recorded, exported and imported elsewhere, is
stored there byte for byte as it was: data, metadata and checksum.

The events handed on to the projections and listeners are `ImportedEvent`s holding their
metadata in the stored form, inflated on first use exactly as a replay inflates it: what
the import projects is what a replay of the store gives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zlib import crc32

from incident_core.envelope import RecordedEvent
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.slim import CHAIN, logical_metadata
from incident_core.store.sql.stored_events import StoredEvent
from incident_core.store.sql.times import stored_time
from incident_core.values import encode_data

if TYPE_CHECKING:
    from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["ImportedEvent", "append_envelopes", "encode_data", "event_rows"]

# The store's own encoder of metadata (slim's and the engine's: compact, ASCII, non-JSON
# values as text), which was the data's too before stores kept pydantic's text of it
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode


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
    get = metadata.get
    command, causation, correlation = get("command_id"), get("causation_id"), \
        get("correlation_id")
    lifted = (isinstance(command, str) and command != "",
              isinstance(causation, str) and causation != "",
              isinstance(correlation, str) and correlation != "")
    kind = get("command_type")
    if lifted == _ALL and len(metadata) == 4 and type(kind) is str:  # as dispatch records
        found = _rests.get((("command_type", kind),))
        if found is None:
            found = _split_rest({"command_type": kind})
    else:
        found = _split_rest({k: v for k, v in metadata.items()
                             if not (k in _LIFTED and isinstance(v, str) and v)})
    stored, command_type, logical = found
    return logical, (stored, *_columns(event_id, (command, causation, correlation), lifted),
                     command_type)


def _columns(event_id: str, ids: tuple[Any, Any, Any],
             lifted: tuple[bool, bool, bool]) -> tuple[str | None, str | None, str | None]:
    """`slim.chain_columns` of the ids taken from the metadata (`lifted`: which were)."""
    a, b, c = ids
    if lifted == _ALL:  # the common case: each column NULL where it repeats the one before
        return (None if a == event_id else a, None if b == a else b, None if c == b else c)
    columns: list[str | None] = []
    before: str | None = event_id
    for value, taken in zip(ids, lifted, strict=True):
        columns.append((None if value == before else value) if taken else "")
        before = value if taken else None
    return columns[0], columns[1], columns[2]


_ALL = (True, True, True)
_LIFTED = frozenset(CHAIN)
_rests: dict[tuple[tuple[str, str], ...], tuple[str, str | None, str]] = {}


def _split_rest(rest: dict[str, Any]) -> tuple[str, str | None, str]:
    """(the JSON to store, the lifted command type or None, the logical JSON) of metadata
    without its lifted ids; remembered by content when every value is a string (then its
    JSON depends on the items alone): an import's events share a few (their command type)."""
    for value in rest.values():
        if type(value) is not str:
            return _split_type(rest)
    key = tuple(rest.items())
    found = _rests.get(key)
    if found is None:
        if len(_rests) >= 256:
            _rests.clear()
        found = _rests[key] = _split_type(dict(rest))
    return found


def _split_type(rest: dict[str, Any]) -> tuple[str, str | None, str]:
    command_type = None
    if rest and next(reversed(rest)) == "command_type":
        value = rest["command_type"]
        if type(value) is str and value:
            command_type = value
            del rest["command_type"]
    stored = _encode(rest) if rest else "{}"
    logical = stored if command_type is None else logical_metadata(stored, command_type)
    return stored, command_type, logical


def row_checksum(position: int, event_id: str, aggregate_id: str, aggregate_type: str,
                 event_type: str, version: int, recorded_at: str, data: str, logical: str,
                 schema_version: int, c1: str | None, c2: str | None, c3: str | None) -> int:
    """`slim.checksum` of an import's row (tests compare them), joined in one f-string."""
    text = (f"{position}\x1f{event_id}\x1f{aggregate_id}\x1f{aggregate_type}\x1f{event_type}"
            f"\x1f{version}\x1f{recorded_at}\x1f{data}\x1f{logical}\x1f{schema_version}"
            f"\x1f{_NUL if c1 is None else c1}\x1f{_NUL if c2 is None else c2}"
            f"\x1f{_NUL if c3 is None else c3}")
    return crc32(text.encode()) - 0x80000000


_NUL = "\x00"


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
        row["checksum"] = row_checksum(position, event_id, aggregate_id, e["aggregate_type"],
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
