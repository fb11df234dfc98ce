"""Recorded events read from slim rows (schemas 3 and 4): the replay's page builders.

The read side of `slim.py` (which says how ids and the command type are stored): a
`StoredEvent` keeps its stored metadata until it is asked for, and the page builders are
the hot loop of every replay (inlined on purpose: a helper call per row costs what the
replay target allows).
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable, Iterable
from typing import Any

from incident_core.envelope import RecordedEvent
from incident_core.errors import CorruptStoreError
from incident_core.store.sql.slim import inflate

__all__ = ["MetadataRows", "PageMetadata", "StoredEvent", "UndecodedEvent", "page3",
           "page4", "replay_page", "undecoded_page"]

_decode = json.loads
_scan: Any = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode


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


class UndecodedEvent(StoredEvent):
    """A replayed event whose data is decoded when first asked for (a rebuild's page):
    `data_text` holds the stored JSON text until then (a reader that decodes the text
    itself reads it there: a rebuild's fold, `engine.projector`), then None, and `data` the
    dict `replay_page` would have built. Texts longer than `LONGEST` are decoded at once."""

    __slots__ = ("data_text",)

    data_text: str | None

    @property
    def data(self) -> dict[str, Any]:
        text = self.data_text
        if text is not None:  # two threads may both decode it: equal dicts, either kept
            _set_data(self, _decoded(text))
            self.data_text = None
        return _get_data(self)  # type: ignore[no-any-return]

    @data.setter
    def data(self, value: dict[str, Any]) -> None:
        _set_data(self, value)
        self.data_text = None


_slot = RecordedEvent.__dict__["data"]
_get_data, _set_data = _slot.__get__, _slot.__set__
LONGEST = 4000  # as `engine.decoder.LONGEST`: beyond it Python's JSON and pydantic's may differ


def _decoded(text: str) -> Any:
    """The data of a stored text, as `replay_page` decodes it."""
    try:
        data, end = _scan(text, 0)
        return data if end == len(text) else _decode(text)
    except StopIteration:
        return _decode(text)


def undecoded_page(rows: Iterable[Any], read: MetadataRows) -> list[RecordedEvent]:
    """`replay_page`'s events with their data left as stored (`UndecodedEvent`), for a
    reader that decodes each event's text itself, once: a rebuild's fold. Only the type
    names are kept once per page (the fold looks them up; its pages are not kept)."""
    seen: dict[Any, Any] = {}
    same = seen.setdefault
    out: list[RecordedEvent] = []
    add = out.append
    cls, meta, longest = UndecodedEvent, PageMetadata(read), LONGEST
    for p, i, a, at, et, v, t, d, s in rows:
        e = _new(cls)
        e.position = p
        e.event_id = i
        e.aggregate_id = a
        e.aggregate_type = same(at, at)
        e.event_type = same(et, et)
        e.version = v
        e._recorded = t
        if len(d) > longest:
            e.data_text = None
            _set_data(e, _decoded(d))
        else:
            e.data_text = d
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
