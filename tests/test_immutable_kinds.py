"""`engine.immutable`: which model types can be changed in place, decided from the core
schema once per type, and the private copies and checks built on it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr

from incident_core.engine.immutable import (
    FRESH,
    FROZEN,
    SHARES,
    ChangedInPlace,
    copy_data,
    kind,
    own,
    unchanged,
)
from incident_core.examples import bank, library, shipping


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass
class Cell:
    value: int


class Leaf(Frozen):
    text: str
    number: int | None = None
    ratio: float = 0.5
    money: Decimal = Decimal(0)
    when: datetime | None = None
    day: date | None = None
    span: timedelta | None = None
    ident: UUID | None = None
    colour: Colour = Colour.RED
    mode: Literal["a", "b"] = "a"
    blob: bytes = b""
    pair: tuple[int, str] = (0, "")
    many: tuple[Point, ...] = ()
    bag: frozenset[str] = frozenset()
    checked: Annotated[str, AfterValidator(str.strip)] = ""


class Tree(Frozen):
    label: str
    children: tuple[Tree, ...] = ()


class Listed(Frozen):
    values: list[int] = Field(default_factory=list)


class Mapped(Frozen):
    values: dict[str, Leaf] = Field(default_factory=dict)


class Loose(BaseModel):  # not frozen: a field can be set
    text: str = ""


class HoldsLoose(Frozen):
    inner: Loose = Field(default_factory=Loose)


class HoldsCell(Frozen):
    cell: Cell = Field(default_factory=lambda: Cell(0))


class Anything(Frozen):
    value: Any = None


class Extra(Frozen):
    model_config = ConfigDict(frozen=True, extra="allow")


class Private(Frozen):
    _memo: dict[str, int] = PrivateAttr(default_factory=dict)


class ListOfAny(Frozen):
    values: list[Any] = Field(default_factory=list)


@pytest.mark.parametrize(("model", "expected"), [
    (Leaf, FROZEN), (Tree, FROZEN), (Frozen, FROZEN),
    (Listed, FRESH), (Mapped, FRESH), (Loose, FRESH), (HoldsLoose, FRESH), (HoldsCell, FRESH),
    (Anything, SHARES), (Extra, SHARES), (Private, SHARES), (ListOfAny, SHARES),
])
def test_each_kind_of_field(model: type[BaseModel], expected: int) -> None:
    assert kind(model) == expected


def test_the_example_domains() -> None:
    """The bank and the library are flat and frozen (shared as before, at no cost); the
    shipping example holds lists and dicts."""
    for domain in (bank.domain, library.domain):
        types = [*domain.event_types.values(), *domain.command_types.values(),
                 *(type(a.initial_state) for a in domain.aggregates.values())]
        assert {t.__name__: kind(t) for t in types} == {t.__name__: FROZEN for t in types}
    events = shipping.domain.event_types
    assert kind(events["ShipmentBooked"]) == FRESH
    assert kind(events["ShipmentConfirmed"]) == FROZEN
    states = {a.name: kind(type(a.initial_state)) for a in shipping.domain.aggregates.values()}
    assert states == {"Shipment": FRESH, "Vessel": FRESH}


def test_own_copies_only_what_can_change() -> None:
    leaf = Leaf(text="a")
    assert own(leaf) is leaf
    mapped = Mapped(values={"a": leaf})
    mine = own(mapped)
    assert mine == mapped and mine is not mapped and mine.values is not mapped.values
    assert mine.values["a"] is leaf  # a frozen part is shared


def test_unchanged_names_what_changed_and_a_nan_is_no_change() -> None:
    class Numbers(Frozen):
        values: list[float]
        names: list[str]

    kept = Numbers(values=[math.nan], names=["a"])
    given = own(kept)
    unchanged(kept, given, "state")  # the same float object: NaN compares equal
    given.names.append("b")
    with pytest.raises(ChangedInPlace, match=r"changed in place the state it was given "
                                             r"\(names\)"):
        unchanged(kept, given, "state")


def test_copy_data_copies_only_for_types_that_hand_data_through() -> None:
    data = {"value": [1, 2]}
    assert copy_data(Listed, data) is data
    copied = copy_data(Anything, data)
    assert copied == data and copied["value"] is not data["value"]
    event = Anything.model_validate(copied)
    assert event.value is not data["value"]


def test_unchanged_tells_nothing_of_copies_that_never_compare_equal() -> None:
    class Opaque:  # no __eq__: a copy is never equal to the original
        pass

    kept = Anything(value=[Opaque()])
    given = own(kept)
    assert given != kept
    unchanged(kept, given, "state")  # no false alarm
