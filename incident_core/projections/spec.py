"""A projection's table: its columns, and the values an SQL store gives back for them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ColumnKind", "ColumnSpec", "ProjectionSpec", "normalise_row", "stored_value"]

ColumnKind = Literal["text", "integer", "float", "boolean"]


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    kind: ColumnKind
    nullable: bool


@dataclass(frozen=True, slots=True)
class ProjectionSpec:
    """What a store needs to hold a projection: its table shape, no Python logic."""

    name: str
    key: str
    columns: tuple[ColumnSpec, ...]

    @property
    def signature(self) -> str:
        text = repr((self.name, self.key, [(c.name, c.kind, c.nullable) for c in self.columns]))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_value(column: ColumnSpec, value: Any) -> Any:
    """A dumped value as the column gives it back."""
    if value is None:
        return None
    if column.kind == "integer":
        return int(value)
    if column.kind == "float":
        return float(value) + 0.0  # -0.0 + 0.0 is 0.0: SQLite gives a negative zero back so
    if column.kind == "boolean":
        return bool(value)
    return value if isinstance(value, str) else str(value)


def normalise_row(spec: ProjectionSpec, row: dict[str, Any]) -> dict[str, Any]:
    """A row with the value types a SQL store gives back (so replayed and stored rows
    compare equal whatever the adapter)."""
    return {c.name: stored_value(c, row.get(c.name)) for c in spec.columns}
