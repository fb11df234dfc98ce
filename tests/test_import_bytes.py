"""An imported event is stored byte for byte as the dispatch that recorded it stored it.

A shipping history (nested models, enums, datetimes with offsets, floats written in
pydantic's own forms such as `1e-7` and `0.00003`, decimals, non-ASCII and control
characters in data and metadata, a failing saga step) is dispatched into a store, exported
and imported into a fresh store, by the import operation (`incident import`) and by
`Application.import_events`: every column of every event row is the same (data, metadata,
checksum), and so is every stream row; the export of each import is the first export byte
for byte, and every store verifies. On SQLite and PostgreSQL. And for any JSON data: a
dispatch's text, read back, exported (`json`'s forms) and parsed by the import's checks, is
encoded by the import to the dispatch's text again.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import create_engine, text

from incident_core import Application
from incident_core.domain import Command
from incident_core.examples.shipping import Address, AmendCustoms, Dimensions
from incident_core.examples.shipping import domain as shipping
from incident_core.examples.shipping.demo import shipping_demo
from incident_core.operations import verify
from incident_core.operations.export_import import export_events, import_events
from incident_core.operations.import_checks import _fast
from incident_core.operations.import_full import full_envelope as _slow
from incident_core.process import Accepted
from incident_core.progress import run_to_end
from incident_core.store.sql.import_rows import encode_data
from tests.shipping_data import book, register_vessel

Target = Callable[[str], str]  # a name -> a fresh store target of one adapter
ODD = 'Zoë "Straße" \\ Århus \x1f \u2028 🚢'


def _script() -> list[tuple[Command, dict[str, Any] | None]]:
    """The demo's commands, then bookings whose data holds what encoders write differently."""
    steps: list[tuple[Command, dict[str, Any] | None]] = [
        (c, None) for step in shipping_demo(random.Random(3), 3, 25) for c in step]
    steps.append((register_vessel(capacity=50), None))
    odd = Address(name=ODD, street="Kärntner Straße 1", city="Wien", country="AT",
                  postcode="1010")
    for n, (weight, height) in enumerate([(3e-5, 1e-7), (0.1, 123.456), (99_999.5, 2e-4)]):
        shipment = f"00000000-0000-4000-8000-00000000010{n}"
        steps.append((book(shipment, shipper=odd, weight_kg=weight,
                           dimensions=Dimensions(length_cm=1e-6, width_cm=0.5,
                                                 height_cm=height),
                           declared_value=Decimal("1234.50"), reference=ODD[:40],
                           booked_at=datetime(2026, 3, 1, 9, 30, 15, 250,
                                              tzinfo=timezone(timedelta(hours=5, minutes=30))),
                           customs_tags={"hs": "8471.30", "Beschreibung": "Gerät \u2013 ✓"}),
                      {"tenant": "ünï", "ratio": 1e-7, "tags": ["ä", 2]}))
        steps.append((AmendCustoms(aggregate_id=shipment,
                                        customs_tags={"note": ODD}), None))
    return steps


def _rows(target: str, table: str) -> list[tuple[Any, ...]]:
    url = target if "://" in target else f"sqlite:///{target}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            order = "position" if table == "incident_events" else "aggregate_id"
            return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} "
                                                        f"ORDER BY {order}"))]
    finally:
        engine.dispose()


def _export(target: str) -> str:
    buffer = io.StringIO()
    with Application.open(target, shipping) as app:
        run_to_end(export_events(app.store, buffer))
        assert run_to_end(verify(app)).ok
    return buffer.getvalue()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield lambda name: str(tmp_path / f"{name}.sqlite3")
        return
    server = request.getfixturevalue("pg_server")
    made: list[str] = []

    def database(name: str) -> str:
        made.append(f"bytes_{name}_{random.getrandbits(40):x}")
        return str(server.create_database(made[-1]))

    yield database
    for name in made:
        server.drop_database(name)


def test_an_import_stores_the_bytes_a_dispatch_stored(fresh: Target) -> None:
    live = fresh("live")
    with Application.open(live, shipping, create=True) as app:
        for command, metadata in _script():
            app.dispatch(command, metadata=metadata)
        odd = app.dispatch(AmendCustoms(
            aggregate_id="00000000-0000-4000-8000-000000000101", customs_tags={"x": ODD}))
        assert isinstance(odd, Accepted), odd
    first = _export(live)
    assert "Zoë" in first and "1e-07" in first  # `json`'s forms in the file
    stored = _rows(live, "incident_events")
    assert any("Zoë" in r[-2] and "1e-7" in r[-2] and "0.00003" in r[-2] for r in stored)

    by_file, by_api = fresh("file"), fresh("api")
    with Application.open(by_file, shipping, create=True) as app:
        assert run_to_end(import_events(app, first.split("\n"))) == len(stored)
    with Application.open(by_api, shipping, create=True) as app:
        app.import_events([json.loads(line) for line in first.split("\n") if line])
    for imported in (by_file, by_api):
        assert _rows(imported, "incident_events") == stored
        assert _rows(imported, "incident_streams") == _rows(live, "incident_streams")
        assert _export(imported) == first


def _incident(target: str, *args: str) -> None:
    """`incident --db target ARGS --domain shipping`, as a process; it must succeed."""
    command = [sys.executable, "-m", "incident_core.cli", "--db", target, *args,
               "--domain", "incident_core.examples.shipping:domain"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENT_")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env,
                          check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


@pytest.mark.process
def test_the_incident_command_exports_and_imports_the_same_bytes(fresh: Target,
                                                                 tmp_path: Path) -> None:
    live, copy, file = fresh("live"), fresh("copy"), tmp_path / "events.ndjson"
    with Application.open(live, shipping, create=True) as app:
        for command, metadata in _script():
            app.dispatch(command, metadata=metadata)
    _incident(live, "export", str(file))
    _incident(copy, "import", str(file))
    copied = _rows(copy, "incident_events")
    assert copied == _rows(live, "incident_events")
    assert any("Zoë" in row[-2] for row in copied)  # the data's text as dispatch wrote it
    again = tmp_path / "again.ndjson"
    _incident(copy, "export", str(again))
    assert again.read_bytes() == file.read_bytes()


@pytest.mark.parametrize("data", [
    {"a": 1e-7, "b": 3e-5, "c": 1e22, "d": -0.0, "e": 0.1, "f": 2**63 - 1},
    {"nested": [{"é": "ü\u2028\x00"}, None, True], "": {}},
])
def test_data_is_encoded_as_pydantic_writes_it(data: dict[str, Any]) -> None:
    text_ = encode_data(data)
    assert json.loads(text_) == data
    assert encode_data(json.loads(text_)) == text_
    assert "\\u00e9" not in text_ and "\\u00fc" not in text_


def test_data_pydantic_cannot_write_keeps_its_escaped_form() -> None:
    data = {"lone": "\ud800", "at": datetime(2026, 1, 1, tzinfo=UTC)}
    assert encode_data({"lone": "\ud800"}) == '{"lone":"\\ud800"}'
    assert json.loads(encode_data(data))["lone"] == "\ud800"


_scalars = (st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


class _Anything(BaseModel):
    value: Any
    number: float


@settings(max_examples=300, deadline=None)
@given(value=_values, number=st.floats(allow_nan=False, allow_infinity=False))
def test_data_dispatched_exported_and_parsed_again_encodes_to_the_same_text(
        value: Any, number: float) -> None:
    """The way of an event's data: a dispatch's text, decoded by a replay, written by the
    export (`json`, its own float forms), parsed by the import's envelope parser: the import
    encodes it to the dispatch's text."""
    dispatched = _Anything(value=value, number=number).model_dump_json()
    exported = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode({
        "event_id": "e", "aggregate_id": "a", "aggregate_type": "T", "event_type": "E",
        "version": 1, "recorded_at": "2026-12-01T12:34:56.123456+00:00",
        "data": json.loads(dispatched)})
    parsed = _fast(exported) or _slow(1, exported)  # as the import's checks parse it
    assert encode_data(parsed["data"]) == dispatched
