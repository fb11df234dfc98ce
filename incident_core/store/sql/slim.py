"""Schema 3's slim rows: each id stored once, a checksum per event.

The ids of an event's metadata are lifted out of the stored JSON into columns, each kept
only where it differs from the id before it in the chain event id -> command id ->
causation id -> correlation id (a direct command's event: command = causation = correlation,
stored once; an imported event whose ids are all its own: nothing stored). A column holds

* NULL when the id equals the one before it in the chain (which then exists),
* '' when the id is not lifted (absent, or not a non-empty string: it stays in the JSON),
* the id itself otherwise.

`RecordedEvent.metadata` and the export show the same dict as before: `inflate` puts the ids
back. The checksum covers every stored column of the row except itself.
"""

from __future__ import annotations

import json
import json.scanner
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import CorruptStoreError

__all__ = ["CHAIN", "PageMetadata", "StoredEvent", "chain_columns", "checksum", "inflate",
           "lift", "page3", "replay_page", "slim_row", "split"]

CHAIN = ("command_id", "causation_id", "correlation_id")
_ORDER = ("correlation_id", "causation_id", "command_id")  # the order the engine writes them
_decode = json.loads
_scan: Any = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def _data(text: str) -> Any:
    """Decode stored data: the JSON scanner called directly (the engine writes compact JSON;
    anything else, such as surrounding whitespace, goes through `json.loads`)."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return _decode(text)
    return value if end == len(text) else _decode(text)
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode
_SEP = "\x1f"


def split(metadata: dict[str, Any]) -> tuple[str, tuple[str | None, ...]]:
    """(the metadata JSON without the liftable ids, those ids in CHAIN order, None where
    not lifted)."""
    rest = dict(metadata)
    ids: list[str | None] = []
    for key in CHAIN:
        value = rest.get(key)
        if isinstance(value, str) and value:
            del rest[key]
            ids.append(value)
        else:
            ids.append(None)
    return _encode(rest), tuple(ids)


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


def slim_row(pending: PendingEvent, position: int,
             cache: dict[str, tuple[str, tuple[str | None, ...]]]) -> dict[str, Any]:
    """The schema-3 row of an event being appended; `cache` keeps the split of recent
    metadata texts (the events of one command share theirs)."""
    found = cache.get(pending.metadata_json)
    if found is None:
        if len(cache) >= 256:
            cache.clear()
        found = cache[pending.metadata_json] = split(_decode(pending.metadata_json))
    metadata, ids = found
    command_id, causation_id, correlation_id = chain_columns(pending.event_id, ids)
    row = {
        "position": position, "event_id": pending.event_id,
        "aggregate_id": pending.aggregate_id, "aggregate_type": pending.aggregate_type,
        "event_type": pending.event_type, "version": pending.version,
        "recorded_at": pending.recorded_at, "data": pending.data_json, "metadata": metadata,
        "schema_version": pending.schema_version, "command_id": command_id,
        "causation_id": causation_id, "correlation_id": correlation_id}
    row["checksum"] = checksum(*row.values())
    return row


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


class StoredEvent(RecordedEvent):
    """A recorded event read from a schema-3 row: its metadata is inflated lazily. Until
    then `_metadata` holds the stored metadata JSON (no lifted ids), or (that JSON and the
    three id columns), or the `PageMetadata` that reads them; then the inflated dict."""

    __slots__ = ()

    @classmethod
    def from_row3(cls, row: Any) -> RecordedEvent:
        """Build from (position, event_id, aggregate_id, aggregate_type, event_type, version,
        recorded_at, data, metadata, schema_version, command_id, causation_id,
        correlation_id); the type strings interned (one copy per type, not per event)."""
        event = cls(row[0], row[1], row[2], _intern(row[3]), _intern(row[4]), row[5], row[6],
                    _decode(row[7]), row[8], row[9])
        if row[10] is not None or row[11] is not None or row[12] is not None:
            event._metadata = row[8], row[10], row[11], row[12]
        return event

    @property
    def metadata(self) -> dict[str, Any]:
        found = self._metadata
        if type(found) is PageMetadata:  # a replayed page's: read for the page now
            found = found.of(self.position)
        if type(found) is str:
            found = self._metadata = inflate(self.event_id, found, _NO_IDS)
        elif type(found) is tuple:
            found = self._metadata = inflate(self.event_id, found[0], found[1:])
        return found  # type: ignore[no-any-return]

    @property
    def metadata_json(self) -> str:
        return _encode(self.metadata)


_NO_IDS: tuple[str | None, ...] = (None, None, None)
_new = object.__new__
# (position, metadata, command_id, causation_id, correlation_id) of a position range
MetadataRows = Callable[[int, int], Iterable[Any]]


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
        """What `StoredEvent._metadata` holds for the event at `position` before inflating:
        its stored metadata JSON, or (that JSON and its three id columns)."""
        found = self._found
        if found is None:  # filled whole before it is shared (threads may read at once)
            found = {}
            for p, m, c1, c2, c3 in self._read(self.first, self.last):
                no_ids = c1 is None and c2 is None and c3 is None
                found[p] = m if no_ids else (m, c1, c2, c3)
            self._found = found
        try:
            return found[position]
        except KeyError:
            raise CorruptStoreError(f"event #{position} is no longer in the store") from None


def page3(rows: Iterable[Any]) -> list[RecordedEvent]:
    """The events of a page of schema-3 rows (`rows` may be a cursor: read here, so with
    the caller's collector pause). Texts that repeat within a page (aggregate ids, type
    names, times, metadata) are kept once: a replayed event kept in memory costs its own
    object, data, id and position, little more. The hot loop of every replay: objects made
    without calling `__init__`, slots set in line, the data decoded by the JSON scanner."""
    seen: dict[str, str] = {}
    same = seen.setdefault
    out: list[RecordedEvent] = []
    add = out.append
    scan, cls = _scan, StoredEvent
    for p, i, a, at, et, v, t, d, m, s, c1, c2, c3 in rows:
        e = _new(cls)
        e.position = p
        e.event_id = i
        e.aggregate_id = same(a, a)
        e.aggregate_type = same(at, at)
        e.event_type = same(et, et)
        e.version = v
        e.recorded_at_text = same(t, t)
        try:
            data, end = scan(d, 0)
            e.data = data if end == len(d) else _decode(d)
        except StopIteration:
            e.data = _decode(d)
        e.schema_version = s
        e._metadata = same(m, m) if c1 is None and c2 is None and c3 is None \
            else (same(m, m), c1, c2, c3)
        add(e)
    return out


def replay_page(rows: Iterable[Any], read: MetadataRows) -> list[RecordedEvent]:
    """`page3` for a replay: rows without the metadata and id columns (position, event_id,
    aggregate_id, aggregate_type, event_type, version, recorded_at, data, schema_version),
    their metadata read by `read` for the whole page when first asked for (`PageMetadata`).
    A fifth fewer columns to read, the cheapest part of a replay to leave out."""
    seen: dict[str, str] = {}
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
        e.recorded_at_text = same(t, t)
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
