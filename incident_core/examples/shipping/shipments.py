"""Shipments (aggregate ``Shipment``, id = a UUID): booked, confirmed, departed, delivered."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, Field

from incident_core.domain import Aggregate, Command, Decision, Event, Rejection, State
from incident_core.examples.shipping.values import (
    Address,
    Dimensions,
    Leg,
    ShipmentId,
    ShipmentStatus,
)

__all__ = [
    "AmendCustoms", "BookShipment", "CancelShipment", "ConfirmShipment", "CustomsAmended",
    "DeliverShipment", "DepartShipment", "ShipmentBooked", "ShipmentCancelled",
    "ShipmentConfirmed", "ShipmentDelivered", "ShipmentDeparted", "ShipmentState",
    "shipment",
]

Tags = dict[str, str]


class ShipmentCommand(Command):
    aggregate_id: ShipmentId = Field(description="The shipment (a UUID)")


class BookShipment(ShipmentCommand):
    """Book a shipment: who sends what to whom, over which legs."""

    shipper: Address
    consignee: Address
    dimensions: Dimensions
    weight_kg: float = Field(gt=0, le=100_000)
    declared_value: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    legs: list[Leg] = Field(min_length=1, max_length=6)
    customs_tags: Tags = Field(default_factory=dict, max_length=10)
    reference: str | None = Field(default=None, max_length=40)
    booked_at: AwareDatetime


class ConfirmShipment(ShipmentCommand):
    """Internal (booking saga): a vessel reserved capacity for the shipment (no vessel:
    no sea leg needed one)."""

    vessel_id: str | None = None


class CancelShipment(ShipmentCommand):
    reason: str = Field(min_length=1, max_length=200)


class DepartShipment(ShipmentCommand):
    at: AwareDatetime


class DeliverShipment(ShipmentCommand):
    at: AwareDatetime


class AmendCustoms(ShipmentCommand):
    """Replace the customs tags (e.g. an HS code) of a shipment not yet departed."""

    customs_tags: Tags = Field(max_length=10)


class ShipmentBooked(Event):
    shipper: Address
    consignee: Address
    dimensions: Dimensions
    weight_kg: float
    declared_value: Decimal
    legs: list[Leg]
    customs_tags: Tags
    reference: str | None
    booked_at: datetime


class ShipmentConfirmed(Event):
    vessel_id: str | None


class ShipmentCancelled(Event):
    reason: str
    vessel_id: str | None = None


class ShipmentDeparted(Event):
    at: datetime


class ShipmentDelivered(Event):
    at: datetime


class CustomsAmended(Event):
    customs_tags: Tags


class ShipmentState(State):
    status: ShipmentStatus | None = None
    booked: ShipmentBooked | None = None
    vessel_id: str | None = None
    customs_tags: Tags = Field(default_factory=dict)
    departed_at: datetime | None = None
    delivered_at: datetime | None = None
    cancel_reason: str | None = None


shipment = Aggregate("Shipment", ShipmentState())
_OPEN = (ShipmentStatus.BOOKED, ShipmentStatus.CONFIRMED)


@shipment.executes(BookShipment)
def book(state: ShipmentState, cmd: BookShipment) -> Decision:
    if state.status is not None:
        return Rejection("already_booked")
    return ShipmentBooked(**cmd.model_dump(exclude={"aggregate_id"}))


@shipment.executes(ConfirmShipment)
def confirm(state: ShipmentState, cmd: ConfirmShipment) -> Decision:
    if state.status is not ShipmentStatus.BOOKED:
        return Rejection("not_awaiting_confirmation", f"status is {state.status}")
    return ShipmentConfirmed(vessel_id=cmd.vessel_id)


@shipment.executes(CancelShipment)
def cancel(state: ShipmentState, cmd: CancelShipment) -> Decision:
    if state.status not in _OPEN:
        return Rejection("cannot_cancel", f"status is {state.status}")
    return ShipmentCancelled(reason=cmd.reason, vessel_id=state.vessel_id)


@shipment.executes(DepartShipment)
def depart(state: ShipmentState, cmd: DepartShipment) -> Decision:
    if state.status is not ShipmentStatus.CONFIRMED:
        return Rejection("not_confirmed", f"status is {state.status}")
    return ShipmentDeparted(at=cmd.at)


@shipment.executes(DeliverShipment)
def deliver(state: ShipmentState, cmd: DeliverShipment) -> Decision:
    if state.status is not ShipmentStatus.IN_TRANSIT:
        return Rejection("not_in_transit", f"status is {state.status}")
    return ShipmentDelivered(at=cmd.at)


@shipment.executes(AmendCustoms)
def amend(state: ShipmentState, cmd: AmendCustoms) -> Decision:
    if state.status not in _OPEN:
        return Rejection("customs_closed", f"status is {state.status}")
    return CustomsAmended(customs_tags=cmd.customs_tags)


@shipment.applies(ShipmentBooked)
def booked(state: ShipmentState, event: ShipmentBooked) -> ShipmentState:
    return ShipmentState(status=ShipmentStatus.BOOKED, booked=event,
                         customs_tags=event.customs_tags)


@shipment.applies(ShipmentConfirmed)
def confirmed(state: ShipmentState, event: ShipmentConfirmed) -> ShipmentState:
    return state.model_copy(update={"status": ShipmentStatus.CONFIRMED,
                                    "vessel_id": event.vessel_id})


@shipment.applies(ShipmentCancelled)
def cancelled(state: ShipmentState, event: ShipmentCancelled) -> ShipmentState:
    return state.model_copy(update={"status": ShipmentStatus.CANCELLED,
                                    "cancel_reason": event.reason})


@shipment.applies(ShipmentDeparted)
def departed(state: ShipmentState, event: ShipmentDeparted) -> ShipmentState:
    return state.model_copy(update={"status": ShipmentStatus.IN_TRANSIT,
                                    "departed_at": event.at})


@shipment.applies(ShipmentDelivered)
def delivered(state: ShipmentState, event: ShipmentDelivered) -> ShipmentState:
    return state.model_copy(update={"status": ShipmentStatus.DELIVERED,
                                    "delivered_at": event.at})


@shipment.applies(CustomsAmended)
def amended(state: ShipmentState, event: CustomsAmended) -> ShipmentState:
    return state.model_copy(update={"customs_tags": event.customs_tags})
