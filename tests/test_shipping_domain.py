"""The shipping example (nested values, enums, datetimes, decimals, floats, a saga that can
fail) on every adapter, through `Application` and through the `incident` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from incident_core import Accepted, Application, InvalidCommand, Rejected
from incident_core.examples.shipping import (
    AmendCustoms,
    CancelShipment,
    DeliverShipment,
    DepartShipment,
    ShipmentStatus,
    domain,
    shipments,
    vessel_capacity,
)
from tests.shipping_data import BOOKED_AT, NOW, VESSEL, book, register_vessel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cargo(store_target: str) -> Iterator[Application]:
    app = Application.open(store_target, domain, create=True)
    try:
        yield app
    finally:
        app.close()


def rows(app: Application, projection: Any) -> dict[str, dict[str, Any]]:
    return {r["aggregate_id"]: r for r in app.store.projection_rows(projection.spec)}


def status(app: Application, shipment_id: str) -> ShipmentStatus:
    found = app.state(shipment_id)
    assert found is not None
    return found.state.status  # type: ignore[attr-defined,no-any-return]


def test_a_booking_reserves_capacity_and_is_confirmed(cargo: Application) -> None:
    cargo.dispatch(register_vessel(capacity=10))
    sid = str(uuid4())
    assert isinstance(cargo.dispatch(book(sid)), Accepted)
    assert status(cargo, sid) is ShipmentStatus.CONFIRMED
    row = rows(cargo, shipments)[sid]
    assert row["status"] == "confirmed" and row["vessel_id"] == VESSEL
    assert row["weight_kg"] == 412.75 and Decimal(row["declared_value"]) == Decimal("18250.10")
    assert datetime.fromisoformat(row["booked_at"]) == BOOKED_AT
    assert rows(cargo, vessel_capacity)[VESSEL]["utilisation"] == pytest.approx(0.1)


def test_the_whole_voyage_and_its_values_survive_a_reopen(store_target: str) -> None:
    app = Application.open(store_target, domain, create=True)
    if store_target == "memory:":
        app.close()
        pytest.skip("a memory store does not outlive its application")
    sid = str(uuid4())
    app.dispatch(register_vessel())
    app.dispatch(book(sid, customs_tags={"hs": "8471.30", "origin": "NL"}))
    app.dispatch(AmendCustoms(aggregate_id=sid, customs_tags={"hs": "8471.41"}))
    app.dispatch(DepartShipment(aggregate_id=sid, at=NOW))
    app.dispatch(DeliverShipment(aggregate_id=sid, at=datetime(2026, 4, 1, tzinfo=UTC)))
    live, live_rows = app.state(sid), rows(app, shipments)
    app.close()
    with Application.open(store_target, domain, read_only=True) as fresh:
        replayed = fresh.state(sid)
        assert replayed == live
        assert replayed is not None and replayed.state.customs_tags == {"hs": "8471.41"}
        assert rows(fresh, shipments) == live_rows
        assert live_rows[sid]["status"] == "delivered"


def test_a_full_vessel_cancels_the_booking_and_cancelling_releases_room(
        cargo: Application) -> None:
    cargo.dispatch(register_vessel(capacity=1))
    first, second = str(uuid4()), str(uuid4())
    cargo.dispatch(book(first))
    cargo.dispatch(book(second))
    assert status(cargo, second) is ShipmentStatus.CANCELLED
    cargo.dispatch(CancelShipment(aggregate_id=first, reason="customer changed plans"))
    assert status(cargo, first) is ShipmentStatus.CANCELLED
    assert rows(cargo, vessel_capacity)[VESSEL]["reserved_teu"] == 0


def test_rejections_and_invalid_input(cargo: Application) -> None:
    sid = uuid4()
    cargo.dispatch(register_vessel())
    assert isinstance(cargo.dispatch(book(sid)), Accepted)
    result = cargo.dispatch(DepartShipment(aggregate_id=str(sid), at=NOW))
    assert isinstance(result, Accepted)
    assert isinstance(cargo.dispatch(CancelShipment(aggregate_id=str(sid), reason="x")),
                      Rejected)
    with pytest.raises(InvalidCommand, match="legs"):
        domain.parse_command("BookShipment", {**book(uuid4()).model_dump(mode="json"),
                                              "legs": []})
    with pytest.raises(InvalidCommand, match="booked_at"):  # a naive datetime
        domain.parse_command("BookShipment", {**book(uuid4()).model_dump(mode="json"),
                                              "booked_at": "2026-03-01T09:30:00"})


def test_a_shipment_id_is_kept_in_canonical_uuid_form() -> None:
    sid = uuid4()
    command = domain.parse_command("CancelShipment", {"aggregate_id": sid.hex.upper(),
                                                      "reason": "x"})
    assert command.aggregate_id == str(sid)
    with pytest.raises(InvalidCommand, match="aggregate_id"):
        domain.parse_command("CancelShipment", {"aggregate_id": "not-a-uuid", "reason": "x"})


def test_a_booking_without_a_sea_leg_is_confirmed_without_a_vessel(cargo: Application) -> None:
    sid = str(uuid4())
    cargo.dispatch(book(sid, vessel_id=None))
    assert status(cargo, sid) is ShipmentStatus.CONFIRMED
    assert rows(cargo, shipments)[sid]["vessel_id"] is None


def test_a_leg_to_an_unknown_port_parks_the_saga_step_not_the_store(
        cargo: Application) -> None:
    cargo.dispatch(register_vessel())
    bad, good = str(uuid4()), str(uuid4())
    result = cargo.dispatch(book(bad, ports=("NLRTM", "XXABC")))
    assert isinstance(result, Accepted)
    assert [step.error for step in result.saga_failures] == [
        "UnknownPort: unknown port XXABC"]
    assert isinstance(cargo.dispatch(book(good)), Accepted)
    assert status(cargo, good) is ShipmentStatus.CONFIRMED
    assert status(cargo, bad) is ShipmentStatus.BOOKED


# -- through the CLI ------------------------------------------------------------------------
SHIPPING = "incident_core.examples.shipping:domain"


def incident(target: str, *args: str, domain_spec: str | None = SHIPPING,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "incident_core.cli", "--db", target, *args]
    if domain_spec:
        command += ["--domain", domain_spec]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENT_")}
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120,
                          env=env, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def ok(target: str, *args: str, **kwargs: Any) -> Any:
    done = incident(target, *args, **kwargs)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.mark.process  # runs the `incident` command as a process
def test_the_cli_books_and_reads_a_shipment(shared_target: str) -> None:
    ok(shared_target, "init")
    ok(shared_target, "dispatch", "RegisterVessel", "--data",
       register_vessel().model_dump_json())
    sid = str(uuid4())
    booked = ok(shared_target, "dispatch", "BookShipment", "--data", "-",
                stdin=book(sid).model_dump_json(), domain_spec=None)
    assert [e["event_type"] for e in booked["events"]] == ["ShipmentBooked"]
    state = ok(shared_target, "state", sid, domain_spec=None)
    assert state["state"]["status"] == "confirmed"
    assert state["state"]["booked"]["legs"][0]["departs_at"] == "2026-03-01T09:30:00+01:00"
    [row] = ok(shared_target, "projection", "shipments", domain_spec=None)
    assert row["weight_kg"] == 412.75 and row["declared_value"] == "18250.10"
    assert ok(shared_target, "verify", domain_spec=None)["ok"] is True


def test_the_cli_refuses_an_invalid_booking(shared_target: str) -> None:
    ok(shared_target, "init")
    data = book(uuid4()).model_dump(mode="json") | {"weight_kg": -1}
    done = incident(shared_target, "dispatch", "BookShipment", "--data", json.dumps(data))
    assert done.returncode == 2 and "weight_kg" in done.stdout + done.stderr
