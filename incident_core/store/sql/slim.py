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
from collections.abc import Callable, Iterable
from typing import Any

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import CorruptStoreError
from incident_core.store.sql.times import stored_time, time_text

__all__ = [
    "CHAIN",
    "MetadataRows",
    "PageMetadata",
    "Split",
    "StoredEvent",
    "chain_columns",
    "checksum",
    "inflate",
    "lift",
    "lift_ids",
    "lift_type",
    "logical_metadata",
    "page3",
    "page4",
    "replay_page",
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


def slim_row(pending: PendingEvent, position: int, cache: dict[str, Split]) -> dict[str, Any]:
    """The schema-4 row of an event being appended; `cache` keeps the split of recent
    metadata texts (the events of one command share theirs)."""
    found = cache.get(pending.metadata_json)
    if found is None:
        if len(cache) >= 256:
            cache.clear()
        found = cache[pending.metadata_json] = _split4(pending.metadata_json)
    metadata, ids, command_type, logical = found
    event_id = pending.event_id
    command_id, causation_id, correlation_id = chain_columns(event_id, ids)
    recorded_at = pending.recorded_at
    data = pending.data_json
    return {
        "position": position, "event_id": event_id,
        "aggregate_id": pending.aggregate_id, "aggregate_type": pending.aggregate_type,
        "event_type": pending.event_type, "version": pending.version,
        "recorded_at": stored_time(recorded_at), "data": data, "metadata": metadata,
        "schema_version": pending.schema_version, "command_id": command_id,
        "causation_id": causation_id, "correlation_id": correlation_id,
        "checksum": checksum(position, event_id, pending.aggregate_id, pending.aggregate_type,
                             pending.event_type, pending.version, recorded_at, data, logical,
                             pending.schema_version, command_id, causation_id,
                             correlation_id),
        "command_type": command_type}


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


class StoredEvent(RecordedEvent):
    """A recorded event read from a schema-3 or schema-4 row: its metadata is inflated
    lazily. Until then `_metadata` holds the stored metadata JSON (nothing lifted beside
    it), or (that JSON, the three id columns[, schema 4's command_type]), or the
    `PageMetadata` that reads them; then the inflated dict."""

    __slots__ = ()

    @classmethod
    def from_row3(cls, row: Any) -> RecordedEvent:
        """Build from (position, event_id, aggregate_id, aggregate_type, event_type, version,
        recorded_at, data, metadata, schema_version, command_id, causation_id,
        correlation_id[, command_type]); the type strings interned (one copy per type)."""
        event = cls(row[0], row[1], row[2], _intern(row[3]), _intern(row[4]), row[5], row[6],
                    _decode(row[7]), row[8], row[9])
        event._metadata = _held(row[8], tuple(row[10:14]))
        return event

    @property
    def metadata(self) -> dict[str, Any]:
        found = self._metadata
        if type(found) is PageMetadata:  # a replayed page's: read for the page now
            found = found.of(self.position)
        if type(found) is str:
            found = self._metadata = inflate(self.event_id, found, _NO_IDS)
        elif type(found) is tuple:
            found = self._metadata = _inflated(self.event_id, found)
        return found  # type: ignore[no-any-return]

    @property
    def metadata_json(self) -> str:
        return _encode(self.metadata)


_NO_IDS: tuple[str | None, ...] = (None, None, None)
_new = object.__new__
# (position, metadata, command_id, causation_id, correlation_id[, command_type]) of a range
MetadataRows = Callable[[int, int], Iterable[Any]]


def _held(stored: str, columns: tuple[str | None, ...]) -> Any:
    """What `StoredEvent._metadata` holds before inflating: the stored JSON alone when every
    column beside it is NULL, else (the JSON, the columns)."""
    return stored if columns.count(None) == len(columns) else (stored, *columns)


def _inflated(event_id: str, held: tuple[Any, ...]) -> dict[str, Any]:
    """The metadata of (stored JSON, three id columns[, command_type]): the ids in front,
    a lifted command type back as the last key."""
    found = inflate(event_id, held[0], held[1:4])
    if len(held) > 4 and held[4] is not None:
        found["command_type"] = held[4]
    return found


class PageMetadata:
    """The metadata of one page of replayed events, read on first use: one query for the
    page's position range when any of its events is asked for its metadata (a replay that
    never asks, most of them, never reads it). Holds the rows, not the events (no cycle)."""

    __slots__ = ("_found", "_read", "first", "last")

    def __init__(self, read: MetadataRows) -> None:
        self._read = read
        self._found: dict[int, Any] | None = None
        self.first = self.last = 0

    def of(self, position: int) -> Any:
        """What `StoredEvent._metadata` holds for the event at `position` before inflating
        (see `_held`)."""
        found = self._found
        if found is None:  # filled whole before it is shared (threads may read at once)
            found = {}
            for row in self._read(self.first, self.last):
                found[row[0]] = _held(row[1], tuple(row[2:]))
            self._found = found
        try:
            return found[position]
        except KeyError:
            raise CorruptStoreError(f"event #{position} is no longer in the store") from None


def page3(rows: Iterable[Any]) -> list[RecordedEvent]:
    """The events of a page of schema-3 rows (no command_type column): `page4`'s."""
    return page4((*r, None) for r in rows)


def page4(rows: Iterable[Any]) -> list[RecordedEvent]:
    """The events of a page of schema-4 rows (schema 3's columns, then command_type);
    `rows` may be a cursor: read here, so with the caller's collector pause. Texts that
    repeat within a page (aggregate ids, type names, times, metadata) are kept once: a
    replayed event kept in memory costs its own object, data, id and position, little more.
    Objects made without calling `__init__`, slots set in line, the data decoded by the
    JSON scanner."""
    seen: dict[Any, Any] = {}
    same = seen.setdefault
    out: list[RecordedEvent] = []
    add = out.append
    scan, cls = _scan, StoredEvent
    for p, i, a, at, et, v, t, d, m, s, c1, c2, c3, ct in rows:
        e = _new(cls)
        e.position = p
        e.event_id = i
        e.aggregate_id = same(a, a)
        e.aggregate_type = same(at, at)
        e.event_type = same(et, et)
        e.version = v
        e._recorded = same(t, t)
        try:
            data, end = scan(d, 0)
            e.data = data if end == len(d) else _decode(d)
        except StopIteration:
            e.data = _decode(d)
        e.schema_version = s
        e._metadata = same(m, m) if c1 is None and c2 is None and c3 is None and ct is None \
            else (same(m, m), c1, c2, c3, ct)
        add(e)
    return out


def replay_page(rows: Iterable[Any], read: MetadataRows) -> list[RecordedEvent]:
    """`page4` for a replay (schema 3 or 4): rows without the metadata, id and command type
    columns (position, event_id, aggregate_id, aggregate_type, event_type, version,
    recorded_at, data, schema_version), their metadata read by `read` for the whole page
    when first asked for (`PageMetadata`). The hot loop of every replay."""
    seen: dict[Any, Any] = {}
    same = seen.setdefault
    out: list[RecordedEvent] = []
    add = out.append
    scan, cls, meta = _scan, StoredEvent, PageMetadata(read)
    for p, i, a, at, et, v, t, d, s in rows:
        e = _new(cls)
        e.position = p
        e.event_id = i
        e.aggregate_id = same(a, a)
        e.aggregate_type = same(at, at)
        e.event_type = same(et, et)
        e.version = v
        e._recorded = same(t, t)
        try:
            data, end = scan(d, 0)
            e.data = data if end == len(d) else _decode(d)
        except StopIteration:
            e.data = _decode(d)
        e.schema_version = s
        e._metadata = meta
        add(e)
    if out:
        meta.first, meta.last = out[0].position, out[-1].position
    return out


_types: dict[str, str] = {}


def _intern(text: str) -> str:
    found = _types.get(text)
    if found is None:
        if len(_types) > 10_000:  # a bound, against a domain with unbounded type names
            _types.clear()
        found = _types[text] = text
    return found
