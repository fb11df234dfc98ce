"""Large imports (`operations/bulk_import.py` with the adapter's bulk load): on SQLite an
import at least as large as the store builds the log's secondary indexes once at the end,
in the same transaction. Whatever a line near the end of a 90,000-line file gets wrong, the
error names the line and the field, and the store file is left byte for byte as it was,
its indexes included; a good file leaves exactly the indexes a fresh store has."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from incident_core import Application, StoreError
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.operations import ImportFileError, export_events
from incident_core.operations.bulk_import import import_lines
from incident_core.progress import run_to_end
from tests.shipping_data import book, register_vessel

LINES = 90_000


def indexes(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                            "AND tbl_name = 'incident_events' ORDER BY name").fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def booked() -> dict[str, Any]:
    """A real ShipmentBooked envelope (legs of nested models), as an export writes it."""
    with Application.open("memory:", shipping_domain) as app:
        app.dispatch(register_vessel())
        app.dispatch(book(uuid4()))
        buffer = io.StringIO()
        run_to_end(export_events(app.store, buffer))
    envelopes = [json.loads(line) for line in buffer.getvalue().splitlines()]
    found: dict[str, Any] = next(e for e in envelopes if e["event_type"] == "ShipmentBooked")
    found.pop("position")
    return found


def vessels(count: int) -> list[str]:
    """`count` lines, each a vessel registered (one event per stream)."""
    return [json.dumps({
        "event_id": str(uuid4()), "aggregate_id": f"IMO{1_000_000 + n}",
        "aggregate_type": "Vessel",
        "event_type": "VesselRegistered", "version": 1,
        "recorded_at": "2026-03-01T08:30:00.000000+00:00", "schema_version": 1,
        "data": {"name": f"Vessel {n}", "capacity_teu": 10, "speed_knots": 20.5},
        "metadata": {"causation_id": str(uuid4()), "command_id": str(uuid4()),
                     "command_type": "RegisterVessel"}})
        for n in range(count)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Application, Path]]:
    path = tmp_path / "store.sqlite3"
    app = Application.open(str(path), shipping_domain, create=True)
    try:
        yield app, path
    finally:
        app.close()


def test_a_large_import_leaves_the_indexes_of_a_fresh_store(
        store: tuple[Application, Path], booked: dict[str, Any], tmp_path: Path) -> None:
    app, path = store
    fresh = indexes(path)
    lines = [*vessels(20_000), json.dumps(booked)]
    assert run_to_end(import_lines(app, list(enumerate(lines, start=1)),
                                   defer_indexes=10_000)) == len(lines)
    assert indexes(path) == fresh
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT position FROM incident_events "
                            "WHERE command_id = ?", ("x",)).fetchall()
    assert "incident_events_command" in str(plan)
    cause = json.loads(lines[7])["metadata"]["causation_id"]
    assert [e.position for e in app.store.events_with_metadata("causation_id", cause)] == [8]


def _spoil(kind: str, lines: list[str], booked: dict[str, Any]) -> str:
    """The last line made wrong in one way; the message its error gives."""
    if kind == "nested field":
        bad = json.loads(json.dumps(booked))
        bad["data"]["legs"][0]["departs_at"] = "not a time"
        lines[-1] = json.dumps(bad)
        return r"ShipmentBooked data does not decode: legs\.0\.departs_at"
    if kind == "duplicate id":
        again = json.loads(lines[-1])
        again["event_id"] = json.loads(lines[17])["event_id"]
        lines[-1] = json.dumps(again)
        return f"event id {again['event_id']} already appears on line 18"
    gap = json.loads(lines[-2])  # vessel: version 1 -> 3
    gap["version"] = 2
    gap["data"] = {"shipment_id": "S", "teu": 1}
    gap["event_type"] = "CapacityReserved"
    lines[-1] = json.dumps(gap | {"version": 3, "event_id": str(uuid4())})
    return f"stream {gap['aggregate_id']} jumps from version 1 to 3"


@pytest.mark.parametrize("kind", ["nested field", "duplicate id", "version gap"])
def test_a_bad_line_at_90000_names_it_and_leaves_the_file_as_it_was(
        store: tuple[Application, Path], booked: dict[str, Any], kind: str) -> None:
    app, path = store
    app.dispatch(register_vessel("IMO0000001"))  # the store is not empty
    before = (digest(path), indexes(path))
    lines = [*vessels(LINES - 1), json.dumps(booked)]
    message = _spoil(kind, lines, booked)
    with pytest.raises(ImportFileError, match=f"^line {LINES}: {message}"):
        run_to_end(import_lines(app, list(enumerate(lines, start=1))))
    assert (digest(path), indexes(path)) == before
    assert app.store.head() == 1


def test_an_id_already_in_the_store_fails_the_bulk_load_and_changes_nothing(
        store: tuple[Application, Path]) -> None:
    app, path = store
    lines = vessels(12_000)
    run_to_end(import_lines(app, list(enumerate(lines[:1], start=1))))
    before = (digest(path), indexes(path))
    again = [*lines[1:], lines[0].replace('"IMO1000000"', '"IMO0999999"')]
    with pytest.raises(StoreError, match="already"):
        run_to_end(import_lines(app, list(enumerate(again, start=1)), defer_indexes=10_000))
    assert (digest(path), indexes(path)) == before


def test_a_bulk_load_closed_midway_changes_nothing(store: tuple[Application, Path]) -> None:
    app, path = store
    app.dispatch(register_vessel("IMO0000001"))
    before = (digest(path), indexes(path))
    operation = import_lines(app, list(enumerate(vessels(12_000), start=1)), batch=5000,
                             defer_indexes=10_000)
    next(operation)
    next(operation)  # one batch appended, the indexes dropped
    operation.close()
    assert (digest(path), indexes(path)) == before
    assert app.store.head() == 1
