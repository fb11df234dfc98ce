"""A projection tab's rows as of a past position, read off the UI thread.

`read_as_of` runs on a worker: the rows come from `incident_core.operations.asof.rows_as_of`
(the nearest row snapshot plus the events after it, folded by the engine's own projector),
sorted as the tab asks (key order, or a clicked column), every cell already turned into its
text. The result is a complete `RowsSnapshot` (nothing left to fetch from the store, whose
tables hold the present)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incident_core import Application
from incident_core.operations.asof import rows_as_of
from incident_core.ports.sorting import SortKey
from incident_gui.widgets.projection_rows import RowsSnapshot, cell_text

__all__ = ["PastRows", "read_as_of"]


@dataclass(frozen=True)
class PastRows(RowsSnapshot):
    """A `RowsSnapshot` of the past, with how it was made."""

    position: int = 0
    snapshot: int = 0  # the row snapshot the fold started from (0: the beginning)
    replayed: int = 0  # events folded on top of it

    def describe(self) -> str:
        rows = self.total
        start = (f"snapshot at #{self.snapshot:,}" if self.snapshot else "the beginning")
        return (f"{rows:,} row{'s' if rows != 1 else ''} as of position #{self.position:,} "
                f"(from {start} + {self.replayed:,} events) · the past: read-only")


def _sort_key(column: str, key: str) -> Any:
    def of(row: dict[str, Any]) -> tuple[bool, Any, Any]:
        value = row.get(column)
        return (value is None, value if value is not None else 0, row.get(key))
    return of


def read_as_of(app: Application, name: str, position: int,
               sort: SortKey | None = None) -> PastRows:
    """The projection's rows after every event up to `position`. Blocking: a worker's."""
    found = rows_as_of(app, [name], position)[name]
    spec = app.projection(name).spec
    rows = sorted(found.rows, key=_sort_key(spec.key if sort is None else sort.column, spec.key),
                  reverse=sort is not None and sort.descending)
    names = [c.name for c in spec.columns]
    texts = [tuple(cell_text(row.get(n)) for n in names) for row in rows]
    return PastRows(rows, texts, len(rows), True, position, position, position=position,
                    snapshot=found.snapshot, replayed=found.replayed)
