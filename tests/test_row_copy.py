"""`projections.Row.model_copy` gives what pydantic's `BaseModel.model_copy` gives.

For rows of every column kind the projections support (text, integer, float, boolean,
decimal, UUID, time, date, enum, literal, nullable ones; fields left unset; rows made by
the constructor, `model_validate` or `model_construct`), for any update (values of any type,
unknown keys, none) and `deep` either way, the copy has the same type, `__dict__` (same
order, same objects), fields set, extra and private values, equality and dumps as
pydantic's, and the original row is left as it was. Classes the fast copy does not speak
for (extra allowed, private attributes, a copy of their own) get pydantic's. And the fold
holds a fast copy to the row model as it holds pydantic's: an update the store cannot keep
is refused with the very same error, live and in a rebuild, on every adapter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Self

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, PrivateAttr, create_model

from incident_core import Application
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.examples import bank
from incident_core.examples.bank.accounts import (
    AccountOpened,
    DepositMoney,
    MoneyDeposited,
    OpenAccount,
)
from incident_core.examples.bank.projections import AccountRow
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from incident_core.projections import Projection, Row
from incident_core.projections.row_check import exact_test
from incident_core.values import ValueRefused
from tests.dict_rows_domains import twin


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Wide(Row):
    text: str
    whole: int
    real: float
    flag: bool
    money: Decimal
    ident: uuid.UUID
    at: datetime
    day: date
    colour: Colour
    state: Literal["on", "off"]
    note: str | None = None
    count: int | None = None
    when: datetime | None = None


class WideMore(Wide):
    """A subclass of a row with a field of its own: still copied in line."""

    extra_count: int = 0


class WideExtra(Wide):
    model_config = ConfigDict(extra="allow")


class WidePrivate(Wide):
    _cache: int = PrivateAttr(default=7)


class WideOwnCopy(Wide):
    copies: int = 0

    def model_copy(self, *, update: Mapping[str, Any] | None = None,
                   deep: bool = False) -> Self:
        return super().model_copy(update={**(update or {}), "copies": self.copies + 1},
                                  deep=deep)


class WideDunderCopy(Wide):
    def __copy__(self) -> Self:
        copied = super().__copy__()
        object.__setattr__(copied, "note", "copied")
        return copied


FAST = {Wide: True, WideMore: True, WideExtra: False, WidePrivate: False,
        WideOwnCopy: False, WideDunderCopy: False}

_times = st.datetimes(timezones=st.sampled_from([UTC, None]))
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": st.text(max_size=5), "whole": st.integers(), "real": st.floats(allow_nan=False),
    "flag": st.booleans(), "money": st.decimals(allow_nan=False, allow_infinity=False),
    "ident": st.uuids(), "at": _times, "day": st.dates(), "colour": st.sampled_from(Colour),
    "state": st.sampled_from(["on", "off"]),
}
OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "note": st.none() | st.text(max_size=5), "count": st.none() | st.integers(),
    "when": st.none() | _times,
}
# an update may hold anything: pydantic validates nothing there, and neither does Row
_anything = st.one_of(*VALUES.values(), *OPTIONAL.values(), st.lists(st.integers(), max_size=2))
_keys = st.sampled_from([*VALUES, *OPTIONAL, "extra_count", "copies", "unknown"])
updates = st.none() | st.dictionaries(_keys, _anything, max_size=4)


@st.composite
def rows(draw: st.DrawFn, cls: type[Wide]) -> Wide:
    values = draw(st.fixed_dictionaries(VALUES, optional=OPTIONAL))
    if cls is WideExtra:
        values["surplus"] = draw(_anything)
    made = draw(st.sampled_from(["init", "validate", "construct"]))
    if made == "construct":
        return cls.model_construct(**values)
    return cls(**values) if made == "init" else cls.model_validate(values)


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as exc:  # the same refusal either way is the same outcome
        return type(exc).__name__, str(exc)


def _the_same(ours: BaseModel, theirs: BaseModel) -> None:
    assert type(ours) is type(theirs)
    assert list(ours.__dict__) == list(theirs.__dict__)
    assert all(ours.__dict__[k] is v or ours.__dict__[k] == v
               for k, v in theirs.__dict__.items())
    assert type(ours.model_fields_set) is set and ours.model_fields_set == theirs.model_fields_set
    assert ours.__pydantic_extra__ == theirs.__pydantic_extra__
    assert ours.__pydantic_private__ == theirs.__pydantic_private__
    assert ours == theirs
    assert _outcome(ours.model_dump) == _outcome(theirs.model_dump)
    assert _outcome(lambda: ours.model_dump(mode="json")) == _outcome(
        lambda: theirs.model_dump(mode="json"))


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic's, dumping a value of a wrong type
@pytest.mark.parametrize("cls", list(FAST))
def test_a_row_copy_is_pydantics_copy(cls: type[Wide]) -> None:
    assert cls.__incident_fast_copy__ is FAST[cls]

    @settings(max_examples=150, deadline=None, database=None)
    @given(data=st.data(), update=updates, deep=st.booleans())
    def check(data: st.DataObject, update: dict[str, Any] | None, deep: bool) -> None:
        row = data.draw(rows(cls))
        before, fields_before = dict(row.__dict__), set(row.model_fields_set)
        theirs = BaseModel.model_copy(row, update=update, deep=deep)
        if isinstance(row, WideOwnCopy):  # its own copy runs, through Row's, as BaseModel's
            theirs = BaseModel.model_copy(row, update={**(update or {}),
                                                       "copies": row.copies + 1}, deep=deep)
        ours = row.model_copy(update=update, deep=deep)
        _the_same(ours, theirs)
        assert ours.__dict__ is not row.__dict__
        assert ours.__pydantic_fields_set__ is not row.__pydantic_fields_set__
        assert list(row.__dict__.items()) == list(before.items())
        assert row.model_fields_set == fields_before

    check()


def test_a_copy_of_a_copy_and_an_update_of_another_mapping_type_are_pydantics() -> None:
    row = Wide(text="t", whole=1, real=0.5, flag=True, money=Decimal("1.10"),
               ident=uuid.uuid4(), at=datetime(2026, 1, 1, tzinfo=UTC), day=date(2026, 1, 2),
               colour=Colour.RED, state="on")
    proxy = MappingProxyType({"whole": 2, "note": "n"})
    _the_same(row.model_copy(update=proxy), BaseModel.model_copy(row, update=proxy))
    twice = row.model_copy(update={"count": 3}).model_copy(update={})
    _the_same(twice, BaseModel.model_copy(BaseModel.model_copy(row, update={"count": 3}),
                                          update={}))
    assert twice.model_fields_set == {*Wide.model_fields, "count"} - {"note", "when"}


# the bank's `AccountRow` fields on a plain BaseModel: pydantic's own `model_copy`
PlainAccountRow = create_model(
    "PlainAccountRow", **{name: (field.annotation, ...)
                          for name, field in AccountRow.model_fields.items()})


def test_row_models_keep_the_folds_exact_test() -> None:
    """Row adds nothing to the schema the fold's exact test reads: the bank's Row rows are
    kept as they are, as the same rows of a plain BaseModel would be."""
    ours, theirs = exact_test(AccountRow), exact_test(PlainAccountRow)
    assert ours is not None and theirs is not None
    row = {"aggregate_id": "a", "account_number": "n", "balance": 3, "version": 1,
           "event_id": "e", "event_date": datetime(2026, 1, 1, tzinfo=UTC)}
    for values in (row, {**row, "balance": 1.5}, {**row, "balance": 2**63}, {**row, "x": 1}):
        assert ours(values) is theirs(values) is (values is row)


def _halving_bank(row_type: type[BaseModel]) -> Any:
    """The bank with a `bank_accounts` whose deposits put 1.5 in the integer balance."""
    accounts: Projection[Any] = Projection("bank_accounts", row_type)

    @accounts.on(AccountOpened)
    def opened(row: Any, event: AccountOpened, recorded: RecordedEvent) -> Any:
        return row_type(aggregate_id=recorded.aggregate_id, account_number="n", balance=0,
                        version=recorded.version, event_id=recorded.event_id,
                        event_date=recorded.recorded_at)

    @accounts.on(MoneyDeposited)
    def deposited(row: Any, event: MoneyDeposited, recorded: RecordedEvent) -> Any:
        return row.model_copy(update={"balance": 1.5, "version": recorded.version})

    return twin(bank.domain, [accounts])


def _refusals(target: str, row_type: type[BaseModel]) -> tuple[str, str]:
    """(a rebuild's refusal, a live one) of a deposit that makes a balance of 1.5, over a log
    the bank's own handlers recorded; the rows are left as they were."""
    app = Application.open(target, bank.domain, create=True)
    try:
        assert app.dispatch(OpenAccount(aggregate_id="a1")).ok
        assert app.dispatch(DepositMoney(aggregate_id="a1", amount=5)).ok
        spec = app.projection("bank_accounts").spec
        strict = Application(app.store, _halving_bank(row_type))
        with pytest.raises(DomainCodeError) as rebuilt:
            run_to_end(rebuild(strict, ["bank_accounts"]))
        assert [r["balance"] for r in app.store.projection_rows(spec)] == [5]
        with pytest.raises(ValueRefused) as live:
            strict.dispatch(DepositMoney(aggregate_id="a1", amount=7))
        assert app.store.head() == 2
        assert [r["balance"] for r in app.store.projection_rows(spec)] == [5]
    finally:
        app.close()
    return str(rebuilt.value), str(live.value)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_targets(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh store targets of one adapter."""
    if request.param == "memory":
        yield "memory:", "memory:"
    elif request.param == "sqlite":
        yield str(tmp_path / "ours.sqlite3"), str(tmp_path / "theirs.sqlite3")
    else:
        server = request.getfixturevalue("pg_server")
        names = [f"row_copy_{side}_{uuid.uuid4().hex[:8]}" for side in ("ours", "theirs")]
        try:
            yield str(server.create_database(names[0])), str(server.create_database(names[1]))
        finally:
            for name in names:
                server.drop_database(name)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic's, dumping 1.5 as an integer
def test_an_update_the_store_cannot_keep_is_refused_as_with_pydantics_copy(
        two_targets: tuple[str, str]) -> None:
    ours = _refusals(two_targets[0], AccountRow)
    assert ours == _refusals(two_targets[1], PlainAccountRow)
    assert "row 'a1', on MoneyDeposited" in ours[0] and "balance: not a whole number" in ours[0]
    assert "projection bank_accounts.balance: not a whole number" in ours[1]
