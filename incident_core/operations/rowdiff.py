"""The difference between two sets of projection rows (two moments, or shadow vs live)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from incident_core.projections.definition import ProjectionSpec, normalise_row

__all__ = ["ChangedRow", "RowDiff", "diff_rows", "keyed_rows"]

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChangedRow:
    key: str
    before: Row
    after: Row

    @property
    def columns(self) -> list[str]:
        """The columns whose value changed."""
        return [c for c in self.after if self.before.get(c) != self.after.get(c)]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "columns": self.columns, "before": self.before,
                "after": self.after}


@dataclass(frozen=True, slots=True)
class RowDiff:
    """Rows added, removed and changed going from `before` to `after` (sorted by key)."""

    name: str
    key: str
    added: list[Row]
    removed: list[Row]
    changed: list[ChangedRow]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed),
                "changed": len(self.changed)}

    def to_json(self) -> dict[str, Any]:
        return {"projection": self.name, "key": self.key, "counts": self.counts,
                "identical": self.is_empty, "added": self.added, "removed": self.removed,
                "changed": [c.to_json() for c in self.changed]}


def keyed_rows(spec: ProjectionSpec, rows: Iterable[Row]) -> dict[str, Row]:
    """Rows by key, with the value types a SQL store gives back (so any two compare)."""
    out = {}
    for row in rows:
        norm = normalise_row(spec, row)
        out[str(norm[spec.key])] = norm
    return out


def diff_rows(spec: ProjectionSpec, before: dict[str, Row], after: dict[str, Row]) -> RowDiff:
    """Compare two keyed row sets (as made by `keyed_rows`)."""
    added = [after[k] for k in sorted(after.keys() - before.keys())]
    removed = [before[k] for k in sorted(before.keys() - after.keys())]
    changed = [ChangedRow(k, before[k], after[k])
               for k in sorted(before.keys() & after.keys()) if before[k] != after[k]]
    return RowDiff(spec.name, spec.key, added, removed, changed)
