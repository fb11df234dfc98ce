"""The slim row-lineage format (table `incident_row_lineage`, see `schema.lineage`): how the
engine's lineage records (`LineageTrail.entries`: values before and after as JSON text) are
stored, and how a row's entries are folded back into exactly those values.

Each stored entry keeps the row *after* the change: the whole row (`depth` 0; NULL for a
deletion) or only the fields whose JSON value changed (`depth` n: the n-th entry after the
row's last whole one; a whole row again at LINEAGE_DEPTH, or when it is no longer). Its
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

__all__ = ["LINEAGE_DEPTH", "Encoder", "Last", "fold"]

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


def _same(a: Any, b: Any) -> bool:
    """The same JSON value (1, 1.0 and true are different values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (dict, list)):
        return bool(_dumps(a) == _dumps(b))
    return bool(a == b)


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
            delta = _delta(json.loads(before), json.loads(after))
            if delta is not None and len(delta) < len(after):
                out["depth"], out["change"] = prev.depth + 1, delta
        self.last[key] = Last(out["depth"], out["crc"], after)
        return out


def _delta(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """The changed fields of `after` as JSON text; None if a field came or went."""
    if before.keys() != after.keys():
        return None
    return _dumps({k: v for k, v in after.items() if not _same(before[k], v)})


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
            after = {**before, **json.loads(r.change or "{}")}
        if before is not _UNKNOWN and after is not _UNKNOWN:
            yield LineageEntry(r.projection, r.row_key, r.position, r.event_id, r.event_type,
                               r.recorded_at, None if before is None else dict(before),
                               after)
        state = after


def encode_all(encoder: Encoder, entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [encoder.row(e) for e in entries]
