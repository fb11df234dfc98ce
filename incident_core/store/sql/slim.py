"""Schema 3's slim rows: each id stored once, a checksum per event.

The ids of an event's metadata are lifted out of the stored JSON into columns, each kept
only where it differs from the id before it in the chain event id -> command id ->
causation id -> correlation id (a direct command's event: command = causation = correlation,
stored once; an imported event whose ids are all its own: nothing stored). A column holds

* NULL when the id equals the one before it in the chain (which then exists),
* '' when the id is not lifted (absent, or not a non-empty string: it stays in the JSON),
* the id itself otherwise.

`RecordedEvent.metadata` and the export show the same dict as before: `inflate` puts the ids
back.

Schema 4 also lifts the engine's `command_type` (the key the engine adds last) into a
column when it is the last key of what remains: NULL there means not lifted, so any writer
that leaves the column out stays right; `metadata` puts it back at the end.

The checksum covers every stored column of the row except itself, as schema 3's logical
values: the time in its text form (schema 4 stores microseconds) and the metadata JSON with
a lifted `command_type` put back (`logical_metadata`), so a schema-3 row's checksum holds
unchanged in schema 4.
"""

from __future__ import annotations

import json
import json.scanner
import zlib
from typing import Any

from incident_core.envelope import PendingEvent
from incident_core.store.sql.times import stored_time, time_text

__all__ = [
    "CHAIN",
    "Split",
    "chain_columns",
    "checksum",
    "inflate",
    "lift",
    "lift_ids",
    "lift_type",
    "logical_metadata",
    "row_checksum",
    "slim_row",
    "split",
]

CHAIN = ("command_id", "causation_id", "correlation_id")
_ORDER = ("correlation_id", "causation_id", "command_id")  # the order the engine writes them
_decode = json.loads
_scan: Any = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode
_SEP = "\x1f"


def split(metadata: dict[str, Any]) -> tuple[str, tuple[str | None, ...]]:
    """(the metadata JSON without the liftable ids, those ids in CHAIN order, None where
    not lifted)."""
    rest = dict(metadata)
    ids = lift_ids(rest)
    return _encode(rest), ids


def lift_ids(rest: dict[str, Any]) -> tuple[str | None, ...]:
    """Take the liftable ids out of the metadata dict `rest` (in place): those ids in CHAIN
    order, None where one is absent or not a non-empty string (it then stays in `rest`)."""
    ids: list[str | None] = []
    for key in CHAIN:
        value = rest.get(key)
        if isinstance(value, str) and value:
            del rest[key]
            ids.append(value)
        else:
            ids.append(None)
    return tuple(ids)


def chain_columns(event_id: str, ids: tuple[str | None, ...]) -> tuple[str | None, ...]:
    """The three id columns of an event whose lifted ids are `ids`."""
    columns: list[str | None] = []
    before: str | None = event_id
    for value in ids:
        if value is None:
            columns.append("")
        else:
            columns.append(None if value == before else value)
        before = value
    return tuple(columns)


def lift(event_id: str, metadata: dict[str, Any]) -> tuple[str, tuple[str | None, ...]]:
    """(the metadata JSON without the lifted ids, the three id columns in CHAIN order)."""
    rest, ids = split(metadata)
    return rest, chain_columns(event_id, ids)


Split = tuple[str, tuple[str | None, ...], str | None, str]


def lift_type(rest_json: str) -> tuple[str, str | None]:
    """(the metadata JSON to store, the lifted command type or None) of schema 3's JSON:
    `command_type` is lifted when it is the last key and a non-empty string, and only when
    `logical_metadata` gives the same text back."""
    if not rest_json.endswith('"}') or '"command_type"' not in rest_json:
        return rest_json, None
    try:
        rest = _decode(rest_json)
    except ValueError:  # not JSON (changed outside Incident): stored as it is
        return rest_json, None
    if not isinstance(rest, dict) or not rest or next(reversed(rest)) != "command_type":
        return rest_json, None
    value = rest.pop("command_type")
    if not isinstance(value, str) or not value:
        return rest_json, None
    stored = _encode(rest)
    return (stored, value) if logical_metadata(stored, value) == rest_json else (rest_json, None)


def logical_metadata(stored: str, command_type: str | None) -> str:
    """Schema 3's metadata JSON of a row: the stored JSON with a lifted `command_type` put
    back as its last key (text, exactly as the engine's compact encoder writes it)."""
    if command_type is None:
        return stored
    return f'{stored[:-1]}{"," if stored != "{}" else ""}"command_type":{_encode(command_type)}}}'


def _split4(metadata_json: str) -> Split:
    """`split` then `lift_type`, decoding the metadata once (the same results). What remains
    once the ids are lifted is mostly the same for every command of a type (only its
    `command_type`), so its split is kept by content when all its values are strings (their
    JSON is then fixed by the items alone)."""
    rest = _loads(metadata_json)
    ids = lift_ids(rest)
    key = _plain(rest)
    if key is None:
        stored, value, rest_json = _split_rest(rest)
    else:
        found = _rests.get(key)
        if found is None:
            if len(_rests) >= 256:
                _rests.clear()
            found = _rests[key] = _split_rest(rest)
        stored, value, rest_json = found
    return stored, ids, value, rest_json


_rests: dict[tuple[tuple[str, str], ...], tuple[str, str | None, str]] = {}


def _loads(text: str) -> Any:
    """`json.loads` of a JSON text with nothing around it, by the JSON scanner alone (what
    `json.loads` runs after its two whitespace matches); anything else by `json.loads`."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return _decode(text)
    return value if end == len(text) else _decode(text)


def _plain(rest: dict[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """The items of decoded metadata whose values are all strings, else None."""
    for value in rest.values():
        if type(value) is not str:
            return None
    return tuple(rest.items())


def _split_rest(rest: dict[str, Any]) -> tuple[str, str | None, str]:
    """(the metadata JSON to store, the lifted command type or None, schema 3's JSON) of
    metadata whose ids are lifted already (`rest`, changed here)."""
    rest_json = _encode(rest)
    value = rest.get("command_type")
    if not isinstance(value, str) or not value or next(reversed(rest)) != "command_type" \
            or not rest_json.endswith('"}'):
        return rest_json, None, rest_json
    del rest["command_type"]
    stored = _encode(rest)
    if logical_metadata(stored, value) != rest_json:
        return rest_json, None, rest_json
    return stored, value, rest_json


def _split_plain(metadata: dict[str, str]) -> Split:
    """`_split4` of the JSON of `metadata`, all of whose keys and values are strings, made
    from the dict itself (that JSON decodes to an equal dict, keys in the same order)."""
    get = metadata.get  # CHAIN's order, spelt out (no generator per event)
    ids = (get("command_id") or None, get("causation_id") or None,
           get("correlation_id") or None)
    rest = tuple([item for item in metadata.items() if not (item[1] and item[0] in _CHAINED)])
    found = _rests.get(rest)
    if found is None:
        if len(_rests) >= 256:
            _rests.clear()
        found = _rests[rest] = _split_rest(dict(rest))
    stored, value, rest_json = found
    return stored, ids, value, rest_json


_CHAINED = frozenset(CHAIN)


def _split_of(pending: PendingEvent, cache: dict[str, Split]) -> Split:
    plain = pending.metadata
    if plain is not None:
        return _split_plain(plain)
    found = cache.get(pending.metadata_json)
    if found is None:
        if len(cache) >= 256:
            cache.clear()
        found = cache[pending.metadata_json] = _split4(pending.metadata_json)
    return found


def slim_row(pending: PendingEvent, position: int, cache: dict[str, Split]) -> dict[str, Any]:
    """The schema-4 row of an event being appended; `cache` keeps the split of recent
    metadata texts (the events of one command share theirs) unless the event comes with
    its metadata dict (`PendingEvent.metadata`). The checksum is `checksum`'s, its text
    joined in one go (a format field gives `str` of the value)."""
    metadata, ids, command_type, logical = _split_of(pending, cache)
    event_id = pending.event_id
    command_id, causation_id, correlation_id = chain_columns(event_id, ids)
    recorded_at, data = pending.recorded_at, pending.data_json
    aggregate_id, aggregate_type = pending.aggregate_id, pending.aggregate_type
    event_type, version, schema_version = pending.event_type, pending.version, \
        pending.schema_version
    c1 = "\x00" if command_id is None else command_id
    c2 = "\x00" if causation_id is None else causation_id
    c3 = "\x00" if correlation_id is None else correlation_id
    text = (f"{position}\x1f{event_id}\x1f{aggregate_id}\x1f{aggregate_type}\x1f{event_type}"
            f"\x1f{version}\x1f{recorded_at}\x1f{data}\x1f{logical}\x1f{schema_version}"
            f"\x1f{c1}\x1f{c2}\x1f{c3}")
    crc = zlib.crc32(text.encode()) - 0x80000000
    return {
        "position": position, "event_id": event_id,
        "aggregate_id": aggregate_id, "aggregate_type": aggregate_type,
        "event_type": event_type, "version": version,
        "recorded_at": stored_time(recorded_at), "data": data, "metadata": metadata,
        "schema_version": schema_version, "command_id": command_id,
        "causation_id": causation_id, "correlation_id": correlation_id,
        "checksum": crc, "command_type": command_type}


def inflate(event_id: str, stored_json: str, columns: tuple[str | None, ...]) -> dict[str, Any]:
    """The metadata dict as recorded: the lifted ids put back in front of the rest."""
    ids: dict[str, Any] = {}
    before: str | None = event_id
    for key, column in zip(CHAIN, columns, strict=True):
        if column == "":
            before = None
            continue
        before = ids[key] = before if column is None else column
    out = {key: ids[key] for key in _ORDER if key in ids}
    out.update(_decode(stored_json))
    return out


def checksum(*values: Any) -> int:
    """CRC-32 of a row's canonical content: its columns in schema order (position,
    event_id, aggregate_id, aggregate_type, event_type, version, recorded_at, data,
    metadata, schema_version, command_id, causation_id, correlation_id), NULL and ''
    told apart."""
    text = _SEP.join(["\x00" if v is None else str(v) for v in values])
    return zlib.crc32(text.encode()) - 0x80000000  # signed: a 4-byte integer in SQLite


def row_checksum(content: Any) -> int:
    """The checksum of a stored row's content: the columns in `checksum`'s order, then
    (schema 4) `command_type`; whatever form its `recorded_at` is stored in."""
    values = list(content)
    values[6] = time_text(values[6])
    if len(values) > 13:
        values[8] = logical_metadata(values[8], values.pop(13))
    return checksum(*values)
