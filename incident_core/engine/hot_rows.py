"""Folded projection rows a writer keeps between its commits, so that a dispatch whose one
event lands on a row it wrote lately does not validate the stored row into its row model
again (`projector.SingleStep`).

A row is kept as (its values as written, the folded row the handler returned) only after
the commit that stored it (`Unit.publish`), and only a row the fold kept as it is (the
exact test passed: a rebuild's fold keeps that same object for its next event). It is lent,
never shared: `lend` takes it out, so a handler that changes it in place (refused, the
command rolled back) leaves nothing behind. And it is lent only for a stored row whose
values are the very values it was written with, each of the same type (a float also of the
same sign): then `Projection.folded` of the stored row would give the same row, so nothing
a handler sees changes, whoever wrote the row since (another process, a rebuild, a rolled
back batch-mate) and whatever the store is.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incident_core.projections.definition import Projection

__all__ = ["HOT_LIMIT", "HotRows", "same_values"]

HOT_LIMIT = 4096  # rows kept (the most recently written)
RowKey = tuple[str, str]  # (projection name, row key)


class HotRows:
    """One writer's kept rows (see the module). Thread-safe: `lend` is one `dict.pop`."""

    __slots__ = ("_lock", "_rows")

    def __init__(self) -> None:
        # (values written, folded row, the projection that folded it)
        self._rows: dict[RowKey, tuple[dict[str, Any], Any, object]] = {}
        self._lock = threading.Lock()  # `keep`'s eviction iterates the dict

    def lend(self, projection: Projection[Any], key: str, stored: dict[str, Any]) -> Any:
        """The row of `key` this `projection` folded, when `stored` holds the values it was
        written with (taken out: a row is lent once), else None."""
        entry = self._rows.pop((projection.name, key), None)
        if entry is None or entry[2] is not projection or not same_values(entry[0], stored):
            return None
        return entry[1]

    def keep(self, rows: list[tuple[Projection[Any], str, dict[str, Any], Any]]) -> None:
        """After a commit: (projection, row key, values written, folded row) of each row it
        stored."""
        with self._lock:
            kept = self._rows
            for projection, key, written, folded in rows:
                row_key = (projection.name, key)
                kept.pop(row_key, None)
                kept[row_key] = (dict(written), folded, projection)
            while len(kept) > HOT_LIMIT:
                del kept[next(iter(kept))]

    def clear(self) -> None:
        self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


def same_values(written: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether `stored` holds exactly `written`'s values: the same keys in the same order,
    equal values of the same types, a float zero of the same sign."""
    if written != stored:
        return False
    kinds = list(map(type, written.values()))
    if kinds != list(map(type, stored.values())) or list(written) != list(stored):
        return False
    if float in kinds:
        for value, other in zip(written.values(), stored.values(), strict=True):
            if type(value) is float and value == 0.0 and \
                    math.copysign(1.0, value) != math.copysign(1.0, other):
                return False
    return True
