"""The slim row-lineage format (table `incident_row_lineage`, see `schema.lineage`): how the
engine's lineage records (`LineageTrail.entries`: values before and after as JSON text) are
stored, and how a row's entries are folded back into exactly those values.

Each stored entry keeps the row *after* the change: the whole row (`depth` 0; NULL for a
deletion) or only the fields whose JSON value changed (`depth` n: the n-th entry after the
row's last whole one, see `_applied`; a whole row again at LINEAGE_DEPTH, or when it is no
longer). Its
*before* is the after of the row's previous entry; `crc` (the after's CRC-32) lets the next
change check that its before really is that after. Where it is not (the row's first entry
while it already existed, or lineage that was off for a while), the entry keeps its before
(`before`, 'null' for absent) and the whole row after, so folding never guesses.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from incident_core.ports.values import LineageEntry

__all__ = ["LINEAGE_DEPTH", "Encoder", "Last", "Stored", "fold", "refs_of"]

LINEAGE_DEPTH = 32  # at most this many entries of a row between whole rows
_dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode
_UNKNOWN: Any = object()  # a row's state before the first whole row of a read window


def crc(text: str | None) -> int:
    """CRC-32 of an after's JSON text ('null': absent), as a signed 32-bit integer."""
    value = zlib.crc32(b"null" if text is None else text.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


class Last(NamedTuple):
    """A row's latest stored entry: its depth, its after's CRC and (when recorded in this
    batch) its after's text."""

    depth: int
    crc: int
    after: object = _UNKNOWN  # str or None when known
    row: Any = None  # the after parsed, when a delta needed it


class Encoder:
    """Turns lineage records into stored rows, in position order per row. `last` holds
    each row's latest stored entry (the caller loads those of rows it has not seen)."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, str], Last] = {}

    def row(self, entry: dict[str, Any]) -> dict[str, Any]:
        key = (entry["projection"], entry["row_key"])
        before, after = entry["values_before"], entry["values_after"]
        out = {"projection": key[0], "row_key": key[1], "position": entry["position"],
               "depth": 0, "crc": crc(after), "change": after, "before": None}
        prev = self.last.get(key)
        if prev is None:
            follows = before is None
        elif prev.after is _UNKNOWN:
            follows = crc(before) == prev.crc
        else:
            follows = before == prev.after
        if not follows:
            out["before"] = "null" if before is None else before
        elif prev is not None and before is not None and after is not None \
                and prev.depth + 1 < LINEAGE_DEPTH:
            refs = refs_of(entry["event_id"], entry.get("recorded_at"), entry.get("version"))
            row = json.loads(after)
            delta = _delta(json.loads(before) if prev.row is None else prev.row, row, refs)
            if delta is not None and len(delta) < len(after):
                out["depth"], out["change"] = prev.depth + 1, delta
            self.last[key] = Last(out["depth"], out["crc"], after, row)
            return out
        self.last[key] = Last(out["depth"], out["crc"], after)
        return out


def _delta(before: dict[str, Any], after: dict[str, Any], refs: tuple[Any, ...]) -> str | None:
    """The changed fields of `after` as a JSON array (see `_applied`); None if the fields
    are not the same ones in the same order."""
    if list(before) != list(after):
        return None
    out: list[Any] = []
    for i, (key, value) in enumerate(after.items()):
        kind = type(value)
        was = before[key]
        if was == value and type(was) is kind and (
                kind is str or kind is int or value is None or _dumps(was) == _dumps(value)):
            continue  # the same JSON text (1, 1.0 and true differ; so do 0.0 and -0.0)
        ref = (refs.index(value) + 1 if kind is str and value in refs[:3]
               else 4 if kind is int and value == refs[3] else 0)
        out += (i * 8 + ref,) if ref else (i * 8, value)
    return _dumps(out)


def refs_of(event_id: str, recorded_at: str | None, version: int | None) -> tuple[Any, ...]:
    """What a delta may refer to instead of repeating it: the event's id, its time as text
    and with 'Z' for UTC (as pydantic writes it), its version."""
    zulu = recorded_at[:-6] + "Z" if recorded_at and recorded_at.endswith("+00:00") else None
    return (event_id, recorded_at, zulu, version)


def _applied(state: dict[str, Any], change: str, refs: tuple[Any, ...]) -> dict[str, Any]:
    """`state` with a delta applied: a flat JSON array of codes (field index * 8 + kind),
    kind 0 followed by the field's new value, kinds 1-4 standing for what `refs_of` gives
    (what a projection row often copies from its event)."""
    out, keys = dict(state), list(state)
    items = json.loads(change)
    i = 0
    while i < len(items):
        code = items[i]
        kind = code & 7
        if kind:
            out[keys[code >> 3]] = refs[kind - 1]
            i += 1
        else:
            out[keys[code >> 3]] = items[i + 1]
            i += 2
    return out


class Stored(NamedTuple):
    """A stored entry joined with its event."""

    projection: str
    row_key: str
    position: int
    depth: int
    change: str | None
    before: str | None
    event_id: str
    event_type: str
    recorded_at: str
    version: int


def fold(rows: Iterable[Stored], *, from_start: bool) -> Iterator[LineageEntry]:
    """The entries of one row's stored entries in position order. `from_start`: they begin
    with the row's first entry; else entries before the first whole row are skipped."""
    state: Any = None if from_start else _UNKNOWN
    for r in rows:
        before = state if r.before is None else json.loads(r.before)
        if r.depth == 0:
            after = None if r.change is None else json.loads(r.change)
        elif before is _UNKNOWN or before is None:
            after = _UNKNOWN
        else:
            refs = refs_of(r.event_id, r.recorded_at, r.version)
            after = _applied(before, r.change or "[]", refs)
        if before is not _UNKNOWN and after is not _UNKNOWN:
            yield LineageEntry(r.projection, r.row_key, r.position, r.event_id, r.event_type,
                               r.recorded_at, None if before is None else dict(before),
                               after)
        state = after


def encode_all(encoder: Encoder, entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [encoder.row(e) for e in entries]
