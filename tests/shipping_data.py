"""Commands of the shipping example, shared by its tests (plain builders, no fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from typing import Any
from uuid import UUID

from incident_core.examples.shipping import (
    Address,
    BookShipment,
    Dimensions,
    Leg,
    Mode,
    RegisterVessel,
)

VESSEL = "IMO9321483"
BOOKED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
SHIPPER = Address(name="Acme", street="Kade 1", city="Rotterdam", country="NL",
                  postcode="3011AA")
CONSIGNEE = Address(name="Lim", street="1 Harbour Rd", city="Singapore", country="SG")


def register_vessel(vessel_id: str = VESSEL, capacity: int = 10) -> RegisterVessel:
    return RegisterVessel(aggregate_id=vessel_id, name="Ever Steady", capacity_teu=capacity,
                          speed_knots=21.5)


def legs(*ports: str, vessel_id: str | None = VESSEL, mode: Mode = Mode.SEA) -> list[Leg]:
    return [Leg(origin=a, destination=b, mode=mode, departs_at=BOOKED_AT + timedelta(days=i),
                vessel_id=vessel_id) for i, (a, b) in enumerate(pairwise(ports))]


def book(shipment_id: UUID | str, *, ports: tuple[str, ...] = ("NLRTM", "SGSIN"),
         vessel_id: str | None = VESSEL, **changes: Any) -> BookShipment:
    fields: dict[str, Any] = {
        "aggregate_id": str(shipment_id), "shipper": SHIPPER, "consignee": CONSIGNEE,
        "dimensions": Dimensions(length_cm=120.5, width_cm=80, height_cm=100.25),
        "weight_kg": 412.75, "declared_value": Decimal("18250.10"),
        "legs": legs(*ports, vessel_id=vessel_id), "customs_tags": {"hs": "8471.30"},
        "reference": "PO-1", "booked_at": BOOKED_AT,
    }
    fields.update(changes)
    return BookShipment(**fields)


def book_json(shipment_id: UUID | str, **changes: Any) -> str:
    return book(shipment_id, **changes).model_dump_json()


NOW = datetime(2026, 3, 2, tzinfo=UTC)
