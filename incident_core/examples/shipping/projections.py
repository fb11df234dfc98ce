"""Read models of the shipping example: `shipments` (one row per shipment) and
`vessel_capacity` (reserved room per vessel, with a float utilisation)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from incident_core.envelope import RecordedEvent
from incident_core.examples.shipping.shipments import (
    ShipmentBooked,
    ShipmentCancelled,
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentDeparted,
)
from incident_core.examples.shipping.values import Mode, ShipmentStatus
from incident_core.examples.shipping.vessels import (
    CapacityReleased,
    CapacityReserved,
    VesselRegistered,
)
from incident_core.projections import Projection

__all__ = ["ShipmentRow", "VesselRow", "shipments", "vessel_capacity"]


class ShipmentRow(BaseModel):
    aggregate_id: str
    status: ShipmentStatus
    origin: str
    destination: str
    mode: Mode
    weight_kg: float
    declared_value: Decimal
    booked_at: datetime
    departed_at: datetime | None
    vessel_id: str | None
    legs: int
    version: int


class VesselRow(BaseModel):
    aggregate_id: str
    name: str
    capacity_teu: int
    reserved_teu: int
    utilisation: float


shipments = Projection("shipments", ShipmentRow)
vessel_capacity = Projection("vessel_capacity", VesselRow)


@shipments.on(ShipmentBooked)
def booked(row: ShipmentRow | None, event: ShipmentBooked,
           recorded: RecordedEvent) -> ShipmentRow:
    first, last = event.legs[0], event.legs[-1]
    return ShipmentRow(aggregate_id=recorded.aggregate_id, status=ShipmentStatus.BOOKED,
                       origin=first.origin, destination=last.destination, mode=first.mode,
                       weight_kg=event.weight_kg, declared_value=event.declared_value,
                       booked_at=event.booked_at, departed_at=None, vessel_id=None,
                       legs=len(event.legs), version=recorded.version)


def _update(row: ShipmentRow | None, recorded: RecordedEvent,
            **changes: object) -> ShipmentRow | None:
    if row is None:
        return None
    return row.model_copy(update={**changes, "version": recorded.version})


@shipments.on(ShipmentConfirmed)
def confirmed(row: ShipmentRow | None, event: ShipmentConfirmed,
              recorded: RecordedEvent) -> ShipmentRow | None:
    return _update(row, recorded, status=ShipmentStatus.CONFIRMED, vessel_id=event.vessel_id)


@shipments.on(ShipmentCancelled)
def cancelled(row: ShipmentRow | None, event: ShipmentCancelled,
              recorded: RecordedEvent) -> ShipmentRow | None:
    return _update(row, recorded, status=ShipmentStatus.CANCELLED)


@shipments.on(ShipmentDeparted)
def departed(row: ShipmentRow | None, event: ShipmentDeparted,
             recorded: RecordedEvent) -> ShipmentRow | None:
    return _update(row, recorded, status=ShipmentStatus.IN_TRANSIT, departed_at=event.at)


@shipments.on(ShipmentDelivered)
def delivered(row: ShipmentRow | None, event: ShipmentDelivered,
              recorded: RecordedEvent) -> ShipmentRow | None:
    return _update(row, recorded, status=ShipmentStatus.DELIVERED)


@vessel_capacity.on(VesselRegistered)
def registered(row: VesselRow | None, event: VesselRegistered,
               recorded: RecordedEvent) -> VesselRow:
    return VesselRow(aggregate_id=recorded.aggregate_id, name=event.name,
                     capacity_teu=event.capacity_teu, reserved_teu=0, utilisation=0.0)


def _reserved(row: VesselRow | None, teu: int) -> VesselRow | None:
    if row is None:
        return None
    reserved = row.reserved_teu + teu
    return row.model_copy(update={"reserved_teu": reserved,
                                  "utilisation": reserved / row.capacity_teu})


@vessel_capacity.on(CapacityReserved)
def reserved(row: VesselRow | None, event: CapacityReserved,
             recorded: RecordedEvent) -> VesselRow | None:
    return _reserved(row, event.teu)


@vessel_capacity.on(CapacityReleased)
def released(row: VesselRow | None, event: CapacityReleased,
             recorded: RecordedEvent) -> VesselRow | None:
    return _reserved(row, -event.teu)
