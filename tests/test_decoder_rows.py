"""The one decoder's fast form (`decoder.decode_rows`) against `decode`, row by row: stored
JSON text validated straight into the event model gives what `decode` gives (Decimal
numbers, duplicate keys, lone surrogates, data already decoded, upcasted rows), and a row
that fails fails exactly as `decode` fails, naming the event."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from incident_core import IncidentError
from incident_core.domain import Aggregate, Domain, Event, State
from incident_core.engine.decoder import decode, decode_rows
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.errors import UnknownEventType
from incident_core.ports import StreamRow


class Priced(Event):
    price: Decimal
    label: str


class Renamed(Event):
    schema_version = 2

    title: str


class Shelf(State):
    prices: tuple[Decimal, ...] = ()
    labels: tuple[str, ...] = ()


shelf = Aggregate("Shelf", Shelf())


@shelf.applies(Priced)
def priced(state: Shelf, event: Priced) -> Shelf:
    return Shelf(prices=(*state.prices, event.price), labels=(*state.labels, event.label))


@shelf.applies(Renamed)
def renamed(state: Shelf, event: Renamed) -> Shelf:
    if event.title == "boom":
        raise ValueError("apply refused")
    return Shelf(prices=state.prices, labels=(*state.labels, event.title))


@shelf.upcasts(Renamed, from_version=1)
def titled(data: dict[str, Any]) -> dict[str, Any]:
    return {"title": str(data.pop("name")).upper()}


SHELF = Domain("shelf", aggregates=[shelf])


def recorded_of(rows: list[StreamRow]) -> Any:
    def recorded(version: int) -> RecordedEvent:
        v, atype, etype, schema, data = rows[version - 1]
        return RecordedEvent(100 + v, f"e{v}", "s", atype, etype, v, "2026-01-01T00:00:00Z",
                             _data(data), "{}", schema)
    return recorded


def via_decode(rows: list[StreamRow]) -> list[Event]:
    recorded = recorded_of(rows)
    return [decode(SHELF, recorded(r[0])) for r in rows]


TEXTS = [
    ("Priced", 1, '{"price":"1.10","label":"plain"}'),
    ("Priced", 1, '{"price":0.1000000000000000055511151231257827,"label":"a number"}'),
    ("Priced", 1, '{"price":2,"label":"first","label":"duplicate key: last wins"}'),
    ("Priced", 1, '{"price":"3","label":"lone \\ud800 surrogate"}'),  # jiter refuses it
    ("Priced", 1, '{"price":"4","label":"\\u00e9t\\u00e9 \\ud83d\\ude00"}'),
    ("Priced", 1, {"price": "5.5", "label": "already decoded (memory store)"}),
    ("Renamed", 1, '{"name":"upcast me"}'),
    ("Renamed", 2, '{"title":"current"}'),
]


def test_the_fast_form_decodes_as_decode_does() -> None:
    rows: list[StreamRow] = [(n, "Shelf", et, sv, data)
                             for n, (et, sv, data) in enumerate(TEXTS, start=1)]
    fast = decode_rows(SHELF, rows, recorded_of(rows))
    assert fast == via_decode(rows)
    assert [type(e) for e in fast] == [type(e) for e in via_decode(rows)]
    assert fast[3] == Priced(price=Decimal(3), label="lone \ud800 surrogate")
    assert fast[6] == Renamed(title="UPCAST ME")


@pytest.mark.parametrize(("event_type", "schema", "data", "error"), [
    ("Priced", 1, '{"price":"x","label":"bad"}', DomainCodeError),
    ("Priced", 1, '{"price":"1"}', DomainCodeError),
    ("Priced", 1, '{"price":"1","label":"a","extra":1}', DomainCodeError),
    ("Renamed", 1, '{"title":"no name: the upcaster fails"}', DomainCodeError),
    ("Renamed", 3, '{"title":"newer"}', IncidentError),
    ("Vanished", 1, "{}", UnknownEventType),
])
def test_a_row_that_fails_fails_as_decode_does(event_type: str, schema: int, data: str,
                                               error: type[Exception]) -> None:
    rows: list[StreamRow] = [(1, "Shelf", "Priced", 1, '{"price":"1","label":"ok"}'),
                             (2, "Shelf", event_type, schema, data)]
    with pytest.raises(error) as fast:
        decode_rows(SHELF, rows, recorded_of(rows))
    with pytest.raises(error) as normal:
        via_decode(rows)
    assert str(fast.value) == str(normal.value)
    if error is DomainCodeError:
        assert f"decoding event #102 ({event_type})" in str(fast.value)



def _data(data: str | dict[str, Any]) -> dict[str, Any]:
    return json.loads(data) if isinstance(data, str) else data
