"""A rebuild decodes an event from its stored JSON text (`decoder.from_text`, the store's
`UndecodedEvent`) only where that gives what `json.loads` then the model's Python validator
gives: the event types it vouches for (a hypothesis property over the shipping, bank and
library events and a test domain's awkward fields), the data a handler reaches through
`recorded` (decoded when first asked for, the dict an eager read builds), and the rows and
errors of a rebuild over such pages (SQLite and PostgreSQL through the adapters' fixtures)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import to_jsonable_python

from incident_core import Application
from incident_core.domain import Aggregate, Command, Domain, Event, State
from incident_core.engine.decoder import decode, decode_rows, from_text, json_exact
from incident_core.envelope import RecordedEvent
from incident_core.examples import bank, library, shipping
from incident_core.examples.bank import DepositMoney, OpenAccount, bank_accounts
from incident_core.operations import rebuild
from incident_core.ports import StreamRow
from incident_core.progress import run_to_end
from incident_core.projections.definition import Projection
from incident_core.store.sql.stored_events import LONGEST, UndecodedEvent


class Tone(Enum):
    LOW = "low"
    HIGH = 2


class Part(BaseModel):
    model_config = ConfigDict(frozen=True)
    label: str
    weight: float = 0.0


class Measured(Event):
    reading: float
    count: int = 0
    at: datetime | None = None
    tone: Tone = Tone.LOW
    parts: tuple[Part, ...] = ()
    tags: dict[str, float] = Field(default_factory=dict)
    note: str | None = None


class Priced(Event):  # Decimal: JSON's 0.0 gives Decimal('0'), Python's float Decimal('0.0')
    price: Decimal = Decimal(0)


class Loose(Event):  # Any: validation hands its value through (each projection its own)
    payload: Any = None
    sizes: list[int] = Field(default_factory=list)


class Strict(Event):  # strict: JSON text is laxer (a string for a datetime)
    model_config = ConfigDict(strict=True)
    at: datetime


class Checked(Event):  # a validator may ask which mode it runs in
    value: Annotated[int, Field(ge=0)]

    @field_validator("value", mode="before")
    @classmethod
    def _mode(cls, value: Any, info: Any) -> Any:
        return value


class Gauge(State):
    readings: int = 0


class Tick(Command):
    n: int
    at: datetime


class Ticked(Event):  # frozen: decoded from its text in a rebuild
    n: int
    at: datetime


class TickRow(BaseModel):
    aggregate_id: str
    total: int
    seen: str


gauge = Aggregate("Gauge", Gauge())
for _type in (Measured, Priced, Loose, Strict, Checked, Ticked):
    gauge.applies(_type)(lambda state, event: Gauge(readings=state.readings + 1))


@gauge.executes(Tick)
def _tick(state: Gauge, command: Tick) -> Ticked:
    return Ticked(n=command.n, at=command.at)


ticks = Projection("ticks", TickRow)


@ticks.on(Ticked)
def _ticked(row: TickRow | None, event: Ticked, recorded: RecordedEvent) -> TickRow:
    """What a handler reaches through `recorded`: the data, ids, version, time, metadata."""
    seen = (f"{sorted(recorded.data.items())} {recorded.event_id} {recorded.version} "
            f"{recorded.recorded_at.isoformat()} {sorted(recorded.metadata)} {event.at}")
    return TickRow(aggregate_id=recorded.aggregate_id, total=(row.total if row else 0) + event.n,
                   seen=(row.seen if row else "") + seen)


GAUGE = Domain("gauge", aggregates=[gauge], projections=[ticks])
DOMAINS = [shipping.domain, bank.domain, library.domain, GAUGE]
TYPES = [(d, name) for d in DOMAINS for name in sorted(d.event_types)]

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-2**80, 2**80),
                     st.floats(), st.text(max_size=8),
                     st.sampled_from(["1.5", "2026-01-01T00:00:00Z", "2026-01-01", "low",
                                      "0.1000000000000000055511151231257827", "1e400",
                                      "-0.0", "\ud800"]))
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)


_LEAF = {
    "str": st.text(max_size=6), "int": st.integers(), "bool": st.booleans(),
    "float": st.one_of(st.floats(), st.integers(-2**60, 2**60)),
    "decimal": st.one_of(st.decimals(allow_nan=False, places=3).map(str), st.floats()),
    "datetime": st.one_of(st.datetimes().map(lambda t: t.isoformat() + "Z"),
                          st.integers(0, 2**32)),
    "date": st.dates().map(str), "uuid": st.uuids().map(str),
}


def _value(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Any:
    """A strategy of JSON values mostly valid for a core schema (any JSON now and then)."""
    kind = schema["type"]
    if kind in ("default", "nullable", "model", "model-field"):
        inner = _value(schema["schema"], defs, depth)
        return st.one_of(inner, st.none()) if kind == "nullable" else inner
    if kind == "definitions":
        defs = {**defs, **{d["ref"]: d for d in schema["definitions"]}}
        return _value(schema["schema"], defs, depth)
    if kind == "definition-ref":
        return _value(defs[schema["schema_ref"]], defs, depth)
    if kind == "model-fields":
        fields = {name: _value(f, defs, depth + 1) for name, f in schema["fields"].items()}
        return st.fixed_dictionaries({}, optional=fields)
    if kind in ("list", "tuple", "set", "frozenset") and depth < 3:
        items = schema.get("items_schema", {"type": "any"})
        items = items[0] if isinstance(items, list) and items else items
        return st.lists(_value(items, defs, depth + 1) if items else _json, max_size=3)
    if kind == "dict":
        return st.dictionaries(st.text(max_size=4),
                               _value(schema.get("values_schema", {"type": "any"}), defs,
                                      depth + 1), max_size=3)
    if kind == "enum":
        return st.sampled_from([m.value for m in schema["members"]])
    if kind == "literal":
        return st.sampled_from(schema["expected"])
    return _LEAF.get(kind, _json)


@st.composite
def _texts(draw: st.DrawFn, model: type[BaseModel]) -> str:
    """JSON text for `model`: its fields present or not, each of its type or any JSON;
    numbers in Python's float forms; sometimes a key twice, or spaces."""
    schema: Any = model.__pydantic_core_schema__
    fields = draw(_value(schema, {}))
    parts = []
    for name, typed in fields.items():
        value = draw(st.one_of(st.just(typed), _json)) if draw(st.booleans()) else typed
        parts.append(f"{json.dumps(name)}:"
                     f"{json.dumps(to_jsonable_python(value), ensure_ascii=draw(st.booleans()))}")
        if draw(st.integers(0, 9)) == 0:
            parts.append(f"{json.dumps(name)}:{json.dumps(draw(_json))}")
    return draw(st.sampled_from(["", " "])) + "{" + ",".join(parts) + "}"


def _outcome(decode: Any, text: str) -> tuple[str, str]:
    try:
        event = decode(text)
    except Exception as exc:
        return "refused", type(exc).__name__
    return type(event).__name__, repr(event)  # repr: tells -0.0, NaN, Decimal digits apart


@pytest.mark.parametrize(("domain", "event_type"), TYPES, ids=[t for _, t in TYPES])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_decoding_from_text_gives_what_json_loads_then_validation_gives(
        domain: Domain, event_type: str, data: st.DataObject) -> None:
    model = domain.event_types[event_type]
    text = data.draw(_texts(model))
    fast = from_text(domain, event_type)
    if fast is None:
        return
    validated = model.__pydantic_validator__.validate_python
    through_python = _outcome(lambda t: validated(json.loads(t)), text)
    through_text = _outcome(fast, text)
    if through_text[0] == "refused":  # the fold then decodes as before: same outcome
        return
    assert through_text == through_python, text


def test_the_types_decoded_from_text_are_those_the_schema_vouches_for() -> None:
    vouched = {name for d in DOMAINS for name in d.event_types
               if from_text(d, name) is not None}
    decimals = {"ShipmentBooked", "MemberRegistered"}
    assert {*shipping.domain.event_types, *bank.domain.event_types,
            *library.domain.event_types, "Measured", "Loose", "Ticked"} - decimals == vouched
    assert not json_exact(Strict) and not json_exact(Checked) and not json_exact(Priced)
    assert from_text(GAUGE, "Vanished") is None


def _store(tmp_path: Path) -> Application:
    app = Application.open(str(tmp_path / "s.sqlite3"), bank.domain, create=True)
    app.dispatch(OpenAccount(aggregate_id="A"))
    for n in range(1, 8):
        app.dispatch(DepositMoney(aggregate_id="A", amount=n))
    return app


def test_an_undecoded_event_reads_as_the_eager_read_builds_it(tmp_path: Path) -> None:
    app = _store(tmp_path)
    try:
        eager = [e for page in app.store.iter_events() for e in page]
        lazy = [e for page in app.store.iter_undecoded_events() for e in page]  # type: ignore[attr-defined]
        assert all(type(e) is UndecodedEvent and e.data_text for e in lazy)
        for before, after in zip(eager, lazy, strict=True):
            text = after.data_text
            assert after.data == before.data == json.loads(text)
            assert after.data is after.data and after.data_text is None  # decoded once
            assert (after.event_id, after.version, after.recorded_at, after.metadata) == (
                before.event_id, before.version, before.recorded_at, before.metadata)
        lazy[0].data = {"amount": 1}
        assert lazy[0].data == {"amount": 1} and lazy[0].data_text is None
    finally:
        app.close()


def test_long_data_is_decoded_as_it_is_read(tmp_path: Path) -> None:
    """Python refuses an integer of more than 4300 digits; pydantic's JSON would take it."""
    assert LONGEST < 4300
    app = _store(tmp_path)
    try:
        with sqlite3.connect(tmp_path / "s.sqlite3") as conn:
            conn.execute("UPDATE incident_events SET data = ? WHERE position = 2",
                         ('{"amount":' + "1" * 5000 + "}",))
        with pytest.raises(ValueError, match="integer string conversion"):
            list(app.store.iter_undecoded_events())  # type: ignore[attr-defined]
    finally:
        app.close()


def test_a_rebuild_fails_on_text_that_is_not_json_as_the_eager_read_does(
        tmp_path: Path) -> None:
    app = _store(tmp_path)
    try:
        with sqlite3.connect(tmp_path / "s.sqlite3") as conn:
            conn.execute("UPDATE incident_events SET data = '{not json' WHERE position = 5")
        with pytest.raises(ValueError) as read:
            list(app.store.iter_events())
        with pytest.raises(ValueError) as rebuilt:
            run_to_end(rebuild(app, ["bank_accounts"]))
        assert type(rebuilt.value) is type(read.value)
        assert str(rebuilt.value) == str(read.value)
    finally:
        app.close()


def test_a_rebuild_from_text_gives_the_live_rows(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(OpenAccount(aggregate_id="B"))
    for n in range(30):
        bank.dispatch(DepositMoney(aggregate_id="AB"[n % 3 % 2], amount=n + 1))
    live = bank.store.projection_rows(bank_accounts.spec)
    report = run_to_end(rebuild(bank, ["bank_accounts"]))
    assert report.events_read == bank.store.head() == 32
    assert bank.store.projection_rows(bank_accounts.spec) == live


def test_loading_an_aggregate_decodes_a_decimal_number_as_decode_does() -> None:
    """`decode_rows` (an aggregate's load) takes the same test: JSON's 0.0 validated as JSON
    is Decimal('0'), through `json.loads` Decimal('0.0') (what `decode` gives)."""
    rows: list[StreamRow] = [(1, "Gauge", "Priced", 1, '{"price":0.0}'),
                             (2, "Gauge", "Measured", 1, '{"reading":-0.0,"count":1e2}')]

    def recorded(version: int) -> RecordedEvent:
        raise AssertionError(f"row {version} was decoded by the fast form")

    events = decode_rows(GAUGE, rows, recorded)
    slow = [decode(GAUGE, RecordedEvent(v, f"e{v}", "g", at, et, v, "2026-01-01T00:00:00Z",
                                        json.loads(str(text)), "{}", sv))
            for v, at, et, sv, text in rows]
    assert [repr(e) for e in events] == [repr(e) for e in slow]
    assert repr(events[0].price) == "Decimal('0.0')"  # type: ignore[attr-defined]


def test_what_a_handler_reaches_through_recorded_is_rebuilt_as_it_was_live(
        store_target: str) -> None:
    app = Application.open(store_target, GAUGE, create=True)
    try:
        for n in range(12):
            assert app.dispatch(Tick(aggregate_id="g" + str(n % 3), n=n,
                                     at=datetime(2026, 1, 1, n))).ok
        live = app.store.projection_rows(ticks.spec)
        assert run_to_end(rebuild(app, ["ticks"])).events_read == 12
        assert app.store.projection_rows(ticks.spec) == live
    finally:
        app.close()
