"""The shipping demo: vessels registered, then shipments booked, and some of them moved on.

Every step books a shipment over one to three legs between known ports (now and then an
unknown one: the booking saga's step fails and is parked, as it would in real life), some
legs by air or rail, and on later steps departs or delivers or cancels an earlier shipment
or amends its customs tags. Vessels fill up, so some bookings are cancelled by the saga.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from incident_core.domain import Command
from incident_core.examples.shipping.shipments import (
    AmendCustoms,
    BookShipment,
    CancelShipment,
    DeliverShipment,
    DepartShipment,
)
from incident_core.examples.shipping.values import PORTS, Address, Dimensions, Leg, Mode
from incident_core.examples.shipping.vessels import RegisterVessel

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
UNKNOWN_PORT_SHARE = 0.03
CITIES = (("Acme", "Rotterdam", "NL"), ("Lim Trading", "Singapore", "SG"),
          ("Hanse GmbH", "Hamburg", "DE"), ("Baía Ltda", "Santos", "BR"),
          ("Hudson Inc", "New York", "US"), ("Huangpu Co", "Shanghai", "CN"))


def vessel_id(number: int) -> str:
    return f"IMO{9_000_000 + number:07d}"


def shipping_demo(rng: random.Random, vessels: int, bookings: int) -> Iterator[list[Command]]:
    """One vessel per entity, then one booking per step (with an update of an older one)."""
    fleet = [vessel_id(n) for n in range(1, vessels + 1)]
    for number, imo in enumerate(fleet, start=1):
        yield [RegisterVessel(aggregate_id=imo, name=f"Demo Star {number}",
                              capacity_teu=rng.randint(20, 400),
                              speed_knots=round(rng.uniform(12, 24), 1))]
    booked: list[str] = []
    for step in range(bookings):
        at = START + timedelta(hours=6 * step)
        commands: list[Command] = [_booking(rng, fleet, at)]
        if booked and rng.random() < 0.5:
            commands.append(_follow_up(rng, rng.choice(booked), at))
        booked.append(str(commands[0].aggregate_id))
        yield commands


def _booking(rng: random.Random, fleet: list[str], at: datetime) -> BookShipment:
    ports = rng.sample(sorted(PORTS), rng.randint(2, 4))
    if rng.random() < UNKNOWN_PORT_SHARE:
        ports[-1] = "ZZXXX"  # well-formed, but the saga has no data for it
    legs = [Leg(origin=a, destination=b, mode=rng.choice((Mode.SEA, Mode.SEA, Mode.AIR)),
                departs_at=at + timedelta(days=2 + i),
                vessel_id=rng.choice(fleet) if fleet else None)
            for i, (a, b) in enumerate(pairwise(ports))]
    shipper, consignee = rng.sample(CITIES, 2)
    return BookShipment(
        aggregate_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        shipper=Address(name=shipper[0], street=f"Quay {rng.randint(1, 99)}",
                        city=shipper[1], country=shipper[2]),
        consignee=Address(name=consignee[0], street=f"Dock {rng.randint(1, 99)}",
                          city=consignee[1], country=consignee[2]),
        dimensions=Dimensions(length_cm=round(rng.uniform(50, 1200), 2),
                              width_cm=round(rng.uniform(40, 240), 2),
                              height_cm=round(rng.uniform(30, 260), 2)),
        weight_kg=round(rng.uniform(5, 20_000), 3),
        declared_value=Decimal(rng.randint(100, 5_000_000)) / 100,
        legs=legs, customs_tags={"hs": f"{rng.randint(1000, 9999)}.{rng.randint(10, 99)}"},
        reference=f"PO-{rng.randint(1, 99_999)}" if rng.random() < 0.7 else None,
        booked_at=at)


def _follow_up(rng: random.Random, shipment_id: str, at: datetime) -> Command:
    roll = rng.random()
    if roll < 0.4:
        return DepartShipment(aggregate_id=shipment_id, at=at)
    if roll < 0.7:
        return DeliverShipment(aggregate_id=shipment_id, at=at)
    if roll < 0.85:
        return AmendCustoms(aggregate_id=shipment_id,
                            customs_tags={"hs": f"{rng.randint(1000, 9999)}.00", "checked": "yes"})
    return CancelShipment(aggregate_id=shipment_id, reason="customer changed plans")
