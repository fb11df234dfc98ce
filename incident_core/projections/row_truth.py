"""What every fold keeps of a handler's result, so that a live row equals a rebuilt one.

Live, rows are read from the store, folded over one unit of work's events and written back;
a rebuild folds every event into rows kept in memory and writes them once. The two agree
only if the row each handler is given is, every time, the row the store would give back:
so each result is held to that at once, in every fold (`Projection.kept`):

- a row the fast test passes (`row_check.exact_test`: every field of the exact type its
  row model keeps, integers within signed 64 bits, floats finite and not -0.0) is kept
  as it is;
- any other result is put in the store's form and read back (`Projection.settle`; a -0.0
  becomes the 0.0 SQLite gives back, on every adapter): the next handler
  sees what a unit of work reading the row again would see, and a row the table cannot
  hold (no value in a non-nullable column, a fraction or a number beyond 64 bits in an
  integer column, a float or decimal that is not finite, text holding a NUL character,
  which PostgreSQL refuses in a text column, a value the row model refuses
  when read back) is refused (`RowRefused`) whichever event made it, last or not;
- a handler that returns None must have left its row as it got it: a row changed in place
  and None returned is refused (`moved`), since a live unit would not write it and a
  rebuild would keep it. Row values are flat scalars (immutable), so comparing each value's
  identity with a shallow copy taken before the handler ran sees every change.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from incident_core.projections.spec import ProjectionSpec
from incident_core.values import INT_MAX, INT_MIN, NUL, NUL_PROBLEM

__all__ = ["RowRefused", "model_refused", "moved", "refuse_moved", "row_problem",
           "value_problem", "values_problem"]


class RowRefused(ValueError):
    """A handler's result the fold cannot keep: `column`, what is wrong with it, and its
    error type (`unrepresentable_value`: a value the table cannot hold; `changed_in_place`:
    a row a handler that returned None changed)."""

    def __init__(self, column: str, problem: str,
                 error_type: str = "unrepresentable_value") -> None:
        super().__init__(f"{column}: {problem}")
        self.column = column
        self.problem = problem
        self.error_type = error_type


def moved(now: dict[str, Any], before: dict[str, Any]) -> str | None:
    """The first column whose value is not the very object it was before (or that was
    added or removed): None when the row is as it was."""
    if now.keys() != before.keys():
        return next(iter(now.keys() ^ before.keys()))
    for name, value in before.items():
        if now[name] is not value:
            return name
    return None


def refuse_moved(now: dict[str, Any], before: dict[str, Any]) -> None:
    """RowRefused when a handler that returned None changed its row in place."""
    column = moved(now, before)
    if column is not None:
        raise RowRefused(column, "changed in place by a handler that returned None (a "
                                 "handler never changes the row it gets: return a new row)",
                         "changed_in_place")


def model_refused(exc: ValidationError, when: str) -> RowRefused:
    error = exc.errors()[0]
    column = ".".join(str(part) for part in error["loc"]) or "<row>"
    return RowRefused(column, f"refused by the row model when {when}: {error['msg']}")


def values_problem(model: BaseModel) -> tuple[str, str] | None:
    """(field, problem) of the first field of the row model holding a number the store
    cannot keep."""
    values = model.__dict__
    for name in type(model).model_fields:
        problem = value_problem(values.get(name))
        if problem is not None:
            return name, problem
    return None


def value_problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number (the store cannot keep it)"
    if isinstance(value, Decimal) and not value.is_finite():
        return f"{value} is not a finite number (the store cannot keep it)"
    if (isinstance(value, int) and not isinstance(value, bool)
            and not INT_MIN <= value <= INT_MAX):
        return "integer outside the signed 64-bit range of the column"
    return None


def row_problem(spec: ProjectionSpec, row: dict[str, Any]) -> tuple[str, str] | None:
    """(column, problem) when the row cannot be stored exactly in the projection's table."""
    for column in spec.columns:
        value = row.get(column.name)
        if value is None:
            if not column.nullable:
                return column.name, "no value (a non-finite float is stored as none)"
        elif column.kind == "integer":
            if not isinstance(value, int | float):
                return column.name, f"a {type(value).__name__}, not a number"
            if isinstance(value, float) and not value.is_integer():
                return column.name, "not a whole number (an integer column)"
            if not INT_MIN <= value <= INT_MAX:
                return column.name, "integer outside the signed 64-bit range of the column"
        elif type(value) is str and NUL in value:
            return column.name, NUL_PROBLEM
    return None
