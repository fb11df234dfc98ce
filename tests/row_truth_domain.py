"""A domain unlike the bank for the row-truth tests: meters whose row has an enum, a time, a
float, a decimal and optional columns, and whose projection handler makes, on demand, each
mistake a handler can make with its row (`Mistake`), as a row model or as a dict.

`meters_domain(form, mistakes=True)`: the domain with its `meters` projection folding row
models (`form="model"`) or dicts (`form="dict"`); with `mistakes=False` the handler ignores
the mistake an event asks for (how a log with such events is recorded in the first place).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from hypothesis import strategies as st
from pydantic import BaseModel

from incident_core import Aggregate, Command, Decision, Domain, Event, Projection, State
from incident_core.envelope import RecordedEvent

Mistake = Literal[
    "none",  # a new row, every field of its exact type
    "in_place",  # the row changed in place, None returned
    "in_place_same",  # a field assigned the value it holds, None returned
    "huge",  # an integer beyond 64 bits
    "fraction",  # a fraction in the integer column
    "whole_float",  # a whole float in the integer column (stored as that integer)
    "missing",  # None in a non-nullable column
    "nan",  # a float that is not finite
    "decimal_nan",  # a decimal that is not finite
    "time_text",  # a time given as text (stored as text, read back as a time)
    "grade_text",  # an enum member given by its value
]
MISTAKES: tuple[Mistake, ...] = ("none", "in_place", "in_place_same", "huge", "fraction",
                                 "whole_float", "missing", "nan", "decimal_nan", "time_text",
                                 "grade_text")


class Grade(Enum):
    LOW = "low"
    HIGH = "high"


class Read(Command):
    delta: int
    level: float
    price: Decimal
    grade: Grade
    note: str | None = None
    mistake: Mistake = "none"


class Reading(Event):
    delta: int
    level: float
    price: Decimal
    grade: Grade
    note: str | None
    mistake: Mistake


class MeterState(State):
    readings: int = 0


meter = Aggregate("Meter", MeterState())


@meter.executes(Read)
def read(state: MeterState, cmd: Read) -> Decision:
    return Reading(delta=cmd.delta, level=cmd.level, price=cmd.price, grade=cmd.grade,
                   note=cmd.note, mistake=cmd.mistake)


@meter.applies(Reading)
def reading(state: MeterState, event: Reading) -> MeterState:
    return MeterState(readings=state.readings + 1)


class MeterRow(BaseModel):
    aggregate_id: str
    total: int
    level: float
    price: Decimal
    grade: Grade
    at: datetime
    seen: datetime | None
    note: str | None
    readings: int


def _values(row: dict[str, Any] | None, event: Reading,
            recorded: RecordedEvent) -> dict[str, Any]:
    """The row's next values, every one of its exact type."""
    return {"aggregate_id": recorded.aggregate_id,
            "total": event.delta + (0 if row is None else row["total"]),
            "level": event.level, "price": event.price, "grade": event.grade,
            "at": recorded.recorded_at,
            "seen": None if row is None else row["at"] - timedelta(seconds=1),
            "note": event.note if event.note is not None or row is None
            else repr(row["level"]),  # what the row gave back shows: -0.0 or 0.0
            "readings": 1 + (0 if row is None else row["readings"])}


_WRONG: dict[str, tuple[str, Any]] = {
    "huge": ("total", 2**70), "fraction": ("total", 0.5), "missing": ("total", None),
    "nan": ("level", float("nan")), "decimal_nan": ("price", Decimal("NaN")),
    "time_text": ("at", "2026-03-01T10:00:00+02:00"), "grade_text": ("grade", "high"),
}


def _mistaken(values: dict[str, Any], mistake: str) -> dict[str, Any]:
    if mistake == "whole_float":
        return {**values, "total": float(values["total"])}
    if mistake in _WRONG:
        column, value = _WRONG[mistake]
        return {**values, column: value}
    return values


def _in_place(row: Any, values: dict[str, Any], same: bool, form: str) -> None:
    target = row.__dict__ if form == "model" else row
    if same:
        target["note"] = target["note"]  # the very object: no change
    else:
        target["total"] = values["total"]


def meters_domain(form: Literal["model", "dict"], *, mistakes: bool = True) -> Domain:
    meters: Projection[MeterRow] = Projection("meters", MeterRow, row_form=form)

    @meters.on(Reading)
    def on_reading(row: Any, event: Reading, recorded: RecordedEvent) -> Any:
        before = None if row is None else (row.__dict__ if form == "model" else row)
        values = _values(before, event, recorded)
        mistake = event.mistake if mistakes else "none"
        if row is not None and mistake in ("in_place", "in_place_same"):
            _in_place(row, values, mistake == "in_place_same", form)
            return None
        values = _mistaken(values, mistake)
        if form == "dict":
            return values
        if row is None:
            return MeterRow.model_construct(**values)  # not validated, as model_copy
        return row.model_copy(update=values)

    return Domain(f"meters-{form}", aggregates=[meter], projections=[meters])


# Readings of the two meters, each with a mistake (or none): the property tests' commands
# no NUL (tests/test_nul_text.py), no lone surrogate (no UTF-8 text holds one: dispatch refuses it)
NO_NUL = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
reads = st.builds(
    Read, aggregate_id=st.sampled_from(["m1", "m2"]), delta=st.integers(-5, 5),
    level=st.sampled_from([-0.0, 0.0]) | st.floats(-1e6, 1e6),
    mistake=st.sampled_from(MISTAKES),
    price=st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    grade=st.sampled_from(Grade), note=st.none() | st.text(NO_NUL, max_size=3))
