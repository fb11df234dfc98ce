"""The dict rows' cheap test (`incident_core.projections.row_check`) speaks only for what the
row model would do: a dict it passes is exactly what validating and dumping gives back
(same keys, equal values of the same types), for values of every kind, right or wrong; a
row model it cannot speak for gets no test."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_serializer,
    field_validator,
    model_validator,
)

from incident_core.projections.row_check import canonical_test, exact_test
from tests.hypothesis_budget import examples


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Size(IntEnum):
    SMALL = 1


class Wide(BaseModel):
    n: int
    s: str
    f: float
    b: bool
    at: datetime
    day: date
    uid: UUID
    amount: Decimal
    colour: Colour
    maybe: int | None
    when: datetime | None
    later: str = "x"


SAMPLES: list[Any] = [
    0, -7, 2**70, True, False, 1.5, 2.0, math.inf, math.nan, -0.0, "", "5", "red", " a ",
    "2026-01-01T00:00:00Z", None, Decimal("1.10"), Decimal("NaN"), Decimal("Infinity"),
    datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 12, 30, 1, 5),
    datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))), date(2026, 1, 1),
    datetime(2026, 7, 1, 5, tzinfo=ZoneInfo("Europe/Paris")),
    UUID(int=5), Colour.RED, "blue", Size.SMALL, [1], {"a": 1}, b"x",
]


GOOD: dict[str, st.SearchStrategy[Any]] = {
    "n": st.integers(), "s": st.text(), "f": st.floats(), "b": st.booleans(),
    "at": st.datetimes(timezones=st.sampled_from([UTC, None])), "day": st.dates(),
    "uid": st.uuids(), "amount": st.decimals(), "colour": st.sampled_from(Colour),
    "maybe": st.none() | st.integers(), "when": st.none() | st.datetimes(), "later": st.text()}


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly right rows: a few fields given any sample value, a few left out, a key added."""
    names = list(Wide.model_fields)
    sloppy = draw(st.sets(st.sampled_from(names), max_size=3))
    row = {name: draw(st.sampled_from(SAMPLES) if name in sloppy else GOOD[name])
           for name in names}
    for name in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
        del row[name]
    if draw(st.booleans()):
        row[draw(st.sampled_from(["extra", "n"]))] = 1
    return row


TEST = canonical_test(Wide)


@given(row=rows())
@settings(max_examples=examples(200), deadline=None)  # long: 2,000
def test_a_dict_the_test_passes_is_what_the_model_gives_back(row: dict[str, Any]) -> None:
    assert TEST is not None
    if not TEST(row):
        return
    kept = Wide.model_validate(row).model_dump()
    assert list(kept) == list(Wide.model_fields) and kept.keys() == row.keys()
    for name, value in kept.items():
        same = value == row[name] or (value != value and row[name] != row[name])  # nan
        assert type(value) is type(row[name]) and same, name


def test_canonical_rows_pass_and_others_do_not() -> None:
    assert TEST is not None
    row = Wide(n=1, s="a", f=1.5, b=True, at=datetime(2026, 1, 1, tzinfo=UTC),
               day=date(2026, 1, 1), uid=UUID(int=1), amount=Decimal("2.50"),
               colour=Colour.BLUE, maybe=None, when=None).model_dump()
    assert TEST(row)
    refused = [{**row, "n": True}, {**row, "n": 1.0}, {**row, "f": 1}, {**row, "s": Colour.RED},
               {**row, "at": "2026-01-01T00:00:00Z"}, {**row, "day": row["at"]},
               {**row, "amount": Decimal("NaN")}, {**row, "colour": "blue"},
               {**row, "maybe": Size.SMALL}, {**row, "extra": 1},
               {k: v for k, v in row.items() if k != "later"}]
    assert [TEST(r) for r in refused] == [False] * len(refused)


def _models() -> list[type[BaseModel]]:
    class Constrained(BaseModel):
        n: int = Field(ge=0)

    class Validated(BaseModel):
        n: int

        @field_validator("n")
        @classmethod
        def positive(cls, value: int) -> int:
            return abs(value)

    class WholeModel(BaseModel):
        n: int

        @model_validator(mode="after")
        def check(self) -> WholeModel:
            return self

    class Stripped(BaseModel):
        model_config = ConfigDict(str_strip_whitespace=True)
        s: str

    class Aliased(BaseModel):
        n: int = Field(alias="number")

    class Computed(BaseModel):
        n: int

        @computed_field  # type: ignore[prop-decorator]
        @property
        def double(self) -> int:
            return self.n * 2

    class Serialised(BaseModel):
        n: int

        @field_serializer("n")
        def shown(self, value: int) -> int:
            return value + 1

    class Inner(BaseModel):
        n: int

    class Nested(BaseModel):
        inner: Inner

    class Literals(BaseModel):
        kind: Literal["a", "b"]

    class Listed(BaseModel):
        items: list[int]

    return [Constrained, Validated, WholeModel, Stripped, Aliased, Computed, Serialised,
            Nested, Literals, Listed]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_a_row_model_with_more_than_plain_fields_gets_no_test(model: type[BaseModel]) -> None:
    assert canonical_test(model) is None


EXACT = exact_test(Wide)


def _storable(row: dict[str, Any]) -> bool:
    """Every integer within signed 64 bits, every float finite and not -0.0, no text
    holding a NUL (what every adapter gives back as it was given)."""
    return all(-(2**63) <= v < 2**63 for v in row.values() if type(v) is int) \
        and all(math.isfinite(v) and (v != 0.0 or math.copysign(1.0, v) > 0)
                for v in row.values() if type(v) is float) \
        and all("\x00" not in v for v in row.values() if type(v) is str)


@given(row=rows())
@settings(max_examples=examples(200), deadline=None)  # long: 2,000
def test_the_compiled_exact_test_is_the_canonical_test_of_a_row_the_store_keeps(
        row: dict[str, Any]) -> None:
    assert TEST is not None and EXACT is not None
    assert EXACT(row) == (TEST(row) and _storable(row))


def test_the_exact_test_refuses_what_the_store_cannot_keep_and_speaks_for_the_same_models(
        ) -> None:
    assert EXACT is not None
    row = Wide(n=2**63 - 1, s="a", f=1.5, b=True, at=datetime(2026, 1, 1, tzinfo=UTC),
               day=date(2026, 1, 1), uid=UUID(int=1), amount=Decimal("2.50"),
               colour=Colour.BLUE, maybe=-(2**63), when=None).model_dump()
    assert EXACT(row) and EXACT(Wide.model_validate(row).__dict__)
    refused = [{**row, "n": 2**63}, {**row, "maybe": -(2**63) - 1}, {**row, "f": math.inf},
               {**row, "f": math.nan}, {**row, "f": -0.0}, {**row, "amount": Decimal("Infinity")},
               {**row, "n": True}, {k: v for k, v in row.items() if k != "s"}]
    assert [EXACT(r) for r in refused] == [False] * len(refused)
    assert all(exact_test(model) is None for model in _models())
