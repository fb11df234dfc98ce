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
from incident_core.store.sql.queries import INSERT_EVENTS
from incident_core.store.sql.slim import CHAIN, logical_metadata
from incident_core.store.sql.stored_events import StoredEvent
from incident_core.store.sql.times import stored_time
from incident_core.values import encode_data

if TYPE_CHECKING:
    from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["ROW", "ImportedEvent", "append_envelopes", "encode_data", "event_rows",
           "row_tuples"]

# The store's own encoder of metadata (slim's and the engine's: compact, ASCII, non-JSON
# values as text), which was the data's too before stores kept pydantic's text of it
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode


Held = tuple[str, str | None, str | None, str | None, str | None]


class ImportedEvent(StoredEvent):
    """An imported event as a replay reads it back: the metadata kept as stored (the JSON
    without the lifted ids and command type, the three id columns, the command type) and
    inflated when first asked for."""

    __slots__ = ()


def split_metadata(event_id: str, metadata: dict[str, Any]) -> tuple[str, Held]:
    """(the logical metadata JSON the checksum covers, what the row stores: the JSON
    without the lifted ids and command type, the id columns in CHAIN order, the command
    type) — what `slim.split`, `chain_columns` and `lift_type` give, from the dict."""
    get = metadata.get
    command, causation, correlation = get("command_id"), get("causation_id"), \
        get("correlation_id")
    kind = get("command_type")
    if len(metadata) == 4 and type(command) is str and type(causation) is str \
            and type(correlation) is str and type(kind) is str and command and causation \
            and correlation:  # as a dispatch records it: the three ids, the command type
        found = _typed.get(kind)
        if found is None:
            found = _typed[kind] = _split_rest({"command_type": kind})
        stored, command_type, logical = found
        return logical, (stored, None if command == event_id else command,
                         None if causation == command else causation,
                         None if correlation == causation else correlation, command_type)
    if command is None and causation is None and correlation is None:  # no ids to lift
        stored, command_type, logical = _split_rest(metadata)
        return logical, (stored, "", "", "", command_type)
    lifted = (isinstance(command, str) and command != "",
              isinstance(causation, str) and causation != "",
              isinstance(correlation, str) and correlation != "")
    stored, command_type, logical = _split_rest(
        {k: v for k, v in metadata.items() if not (k in _LIFTED and isinstance(v, str) and v)})
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
_typed: dict[str, tuple[str, str | None, str]] = {}  # a command type -> its split (bounded:
# the domain's command types, or what a file names; cleared as `_rests` is)


def _split_rest(rest: dict[str, Any]) -> tuple[str, str | None, str]:
    """(the JSON to store, the lifted command type or None, the logical JSON) of metadata
    without its lifted ids; remembered by content when every value is a string (then its
    JSON depends on the items alone): an import's events share a few (their command type)."""
    for value in rest.values():
        if type(value) is not str:
            return _split_type(dict(rest))  # a copy: the caller's dict stays as it is
    key = tuple(rest.items())
    found = _rests.get(key)
    if found is None:
        if len(_rests) >= 256:
            _rests.clear()
            _typed.clear()
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


_NUL = "\x00"


# The order of a row tuple's values: the events table's columns, as the INSERT of a
# positional driver (sqlite3) takes them; a named driver's rows are dicts of these.
ROW = ("position", "recorded_at", "checksum", "version", "schema_version", "event_id",
       "aggregate_id", "aggregate_type", "event_type", "command_id", "causation_id",
       "correlation_id", "command_type", "data", "metadata")


def append_envelopes(tx: SqlTransaction,
                     envelopes: Sequence[dict[str, Any]]) -> list[RecordedEvent] | None:
    """Append an import's checked envelopes as rows built straight from them, after the
    head (`EventLogTransaction.append_envelopes`); None on a store of an older schema
    (its rows are not these: the caller appends pending events, migrated as they go).
    The rows go to the driver as tuples when its INSERT takes them in `ROW`'s order."""
    if tx.store.schema_version != SCHEMA_VERSION:
        return None
    first = tx.head() + 1
    rows: Sequence[Any]
    if tx.store.prepared("insert_events", INSERT_EVENTS).names == list(ROW):
        rows, streams, recorded = row_tuples(envelopes, first)
    else:
        rows, streams, recorded = event_rows(envelopes, first)
    tx.append_rows(rows, streams)
    return recorded


def event_rows(envelopes: Sequence[dict[str, Any]], first: int,
               ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[RecordedEvent]]:
    """`row_tuples` with each row a dict of the events table's columns."""
    rows, streams, recorded = row_tuples(envelopes, first)
    return [dict(zip(ROW, row, strict=True)) for row in rows], streams, recorded


def row_tuples(envelopes: Sequence[dict[str, Any]], first: int,
               ) -> tuple[list[tuple[Any, ...]], dict[str, dict[str, Any]], list[RecordedEvent]]:
    """(the rows of checked envelopes at positions `first`, `first` + 1, ..., as tuples in
    `ROW`'s order, the stream entries they touch as `SqlTransaction.append` keeps them,
    the events as recorded). One loop, inlined on purpose (a call per part of a row costs
    what the import's target allows): the events are made as `stored_events.page4` makes
    them (no `__init__`, slots set in line)."""
    rows: list[tuple[Any, ...]] = []
    streams: dict[str, dict[str, Any]] = {}
    recorded: list[RecordedEvent] = []
    add_row, add_event, new, cls = rows.append, recorded.append, object.__new__, ImportedEvent
    split, encode, micros, crc, entry_of = split_metadata, encode_data, _micros, crc32, \
        streams.get
    position = first
    for e in envelopes:
        event_id, aggregate_id, aggregate_type, event_type = e["event_id"], \
            e["aggregate_id"], e["aggregate_type"], e["event_type"]
        version, recorded_at, schema_version, data = e["version"], e["recorded_at"], \
            e["schema_version"], e["data"]
        logical, held = split(event_id, e["metadata"])
        stored, c1, c2, c3, command_type = held
        text = encode(data)
        checksum = crc(
            f"{position}\x1f{event_id}\x1f{aggregate_id}\x1f{aggregate_type}\x1f{event_type}"
            f"\x1f{version}\x1f{recorded_at}\x1f{text}\x1f{logical}\x1f{schema_version}"
            f"\x1f{_NUL if c1 is None else c1}\x1f{_NUL if c2 is None else c2}"
            f"\x1f{_NUL if c3 is None else c3}".encode()) - 0x80000000
        add_row((position, micros(recorded_at), checksum, version, schema_version, event_id,
                 aggregate_id, aggregate_type, event_type, c1, c2, c3, command_type, text,
                 stored))
        event = new(cls)
        event.position, event.event_id, event.aggregate_id = position, event_id, aggregate_id
        event.aggregate_type, event.event_type, event.version = aggregate_type, event_type, \
            version
        event._recorded, event.data, event.schema_version = recorded_at, data, schema_version
        event._metadata = held
        add_event(event)
        entry = entry_of(aggregate_id)
        if entry is None:
            streams[aggregate_id] = {
                "aggregate_id": aggregate_id, "aggregate_type": aggregate_type,
                "version": version, "event_count": 1, "last_recorded_at": recorded_at,
                "last_position": position}
        else:
            entry["version"], entry["last_recorded_at"], entry["last_position"] = \
                version, recorded_at, position
            entry["event_count"] += 1
        position += 1
    return rows, streams, recorded


def _micros(text: str) -> int:
    """`stored_time` of a time in the store's text form (`YYYY-MM-DDTHH:MM:SS.ffffff+00:00`,
    as every checked envelope's is): the last time and the last second remembered (an
    export's events share seconds), the fraction added; any other text through
    `stored_time`."""
    global _second  # noqa: PLW0603 - a one-entry memo, replaced whole (thread-safe)
    second = _second
    if second[0] == text:
        return second[2]
    fraction = text[20:26]
    if len(text) != 32 or text[19] != "." or not text.endswith("+00:00") \
            or not (fraction.isascii() and fraction.isdigit()):
        return stored_time(text)
    base = second[3] if second[1] == text[:19] else stored_time(text[:19] + ".000000+00:00")
    value = base + int(fraction)
    _second = (text, text[:19], value, base)
    return value


_second: tuple[str, str, int, int] = ("", "", 0, 0)  # (time, its second, both in µs)
