"""How projection row snapshots are packed and chained (see `incident_core.store.snapshots`
for the shelf that keeps them).

Rows are packed by column (one JSON list per column, then the removed keys, compressed):
decoding is a few big lists, not one small list per row. A *segment* is a **full**
snapshot followed by **deltas** (only the rows changed since the previous snapshot of the
segment, and the keys removed); `chain` finds the entries a read lays over each other,
`continues` says whether a delta may join its segment, `thinned` which entries go when a
projection keeps too many segments or bytes. Pure functions: no I/O.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Sequence
from itertools import repeat
from typing import Any

__all__ = ["FORMAT", "MAX_BYTES", "MAX_SEGMENTS", "Entry", "Keyed", "Rows", "chain",
           "continues", "pack", "thinned", "unpack_into"]

MAX_SEGMENTS = 64  # per projection; past this every other segment is dropped
MAX_BYTES = 256_000_000  # per projection, compressed: the same thinning past this size
FORMAT = "3"  # of the packed rows; part of the key, so other formats are never read

Rows = list[dict[str, Any]]
Keyed = dict[str, dict[str, Any]]
Entry = tuple[int, int | None, bytes]  # position, base, data


def pack(rows: Rows, removed: Sequence[str] = ()) -> bytes:
    """Column names, then one list per column, then the removed keys; compressed."""
    columns = list(rows[0]) if rows else []
    table = [columns, [[row.get(c) for row in rows] for c in columns], list(removed)]
    return zlib.compress(json.dumps(table, separators=(",", ":")).encode(), 1)


def unpack_into(data: bytes, key: str, rows: Keyed) -> None:
    """Lay packed rows over `rows` (by key), then drop the removed keys."""
    columns, values, removed = json.loads(zlib.decompress(data))
    if columns:
        keys = map(str, values[columns.index(key)])
        # Our own packing: every column list has one value per row (no strict checks on
        # the hot path, a third of the time).
        made = map(dict, map(zip, repeat(columns), zip(*values)))  # noqa: B905
        rows.update(zip(keys, made))  # noqa: B905
    for gone in removed:
        rows.pop(gone, None)


def chain(entries: Sequence[Entry]) -> Sequence[Entry] | None:
    """The entries from the last one back to its full snapshot, if they hold together
    (`entries` in position order, ending with the wanted one)."""
    if not entries:
        return None
    base = entries[-1][1]
    first = entries[-1][0] if base is None else base
    kept = [e for e in entries if e[0] >= first]
    ok = kept[0][0] == first and kept[0][1] is None and all(e[1] == first for e in kept[1:])
    return kept if ok else None


def continues(last: tuple[int, int | None] | None, base: int, previous: int) -> bool:
    """Whether a delta on segment `base` may follow `previous`, given the latest snapshot
    at or before the delta's position (position, base): it must be `previous` (so none is
    at the delta's own position), of the same segment."""
    if last is None:
        return False
    position, last_base = last
    return position == previous and (position == base if last_base is None
                                      else last_base == base)


def thinned(entries: dict[int, tuple[int | None, int]]) -> list[int]:
    """The positions to drop: deltas whose full snapshot is gone, and while more than
    MAX_SEGMENTS segments or MAX_BYTES are kept, every other segment (oldest first)."""
    fulls = {p for p, (b, _n) in entries.items() if b is None}
    sizes: dict[int, int] = defaultdict(int)
    drop = []
    for position, (base, size) in entries.items():
        segment = position if base is None else base
        if segment in fulls:
            sizes[segment] += size
        else:
            drop.append(position)
    if len(sizes) > MAX_SEGMENTS or sum(sizes.values()) > MAX_BYTES:
        gone = set(sorted(sizes)[1::2])
        drop += [p for p, (b, _n) in entries.items() if (p if b is None else b) in gone]
    return drop
