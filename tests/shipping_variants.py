"""Later versions of the shipping domain, as a user would write them (importable by the CLI
as ``tests.shipping_variants:NAME``): one whose projection row model changed, one whose
``ShipmentBooked`` moved to schema version 2 with an upcaster."""

from __future__ import annotations

from pydantic import BaseModel

from incident_core import Aggregate, Decision, Domain, Event, Projection, RecordedEvent, State
from incident_core.examples import shipping as v1

__all__ = ["BookWithIncoterm", "ShipmentBooked", "ShipmentV2", "changed_rows", "v2"]


# -- a projection row model with one more column -------------------------------------------
class VesselRowV2(BaseModel):
    aggregate_id: str
    name: str
    capacity_teu: int
    reserved_teu: int
    utilisation: float
    speed_knots: float | None = None


vessel_capacity = Projection("vessel_capacity", VesselRowV2)


@vessel_capacity.on(v1.VesselRegistered)
def registered(row: VesselRowV2 | None, event: v1.VesselRegistered,
               recorded: RecordedEvent) -> VesselRowV2:
    return VesselRowV2(aggregate_id=recorded.aggregate_id, name=event.name,
                       capacity_teu=event.capacity_teu, reserved_teu=0, utilisation=0.0,
                       speed_knots=event.speed_knots)


@vessel_capacity.on(v1.CapacityReserved, v1.CapacityReleased)
def reserved(row: VesselRowV2 | None, event: v1.CapacityReserved | v1.CapacityReleased,
             recorded: RecordedEvent) -> VesselRowV2 | None:
    if row is None:
        return None
    teu = row.reserved_teu + (event.teu if isinstance(event, v1.CapacityReserved)
                              else -event.teu)
    return row.model_copy(update={"reserved_teu": teu, "utilisation": teu / row.capacity_teu})


changed_rows = Domain("shipping", aggregates=[v1.shipment, v1.vessel],
                      projections=[v1.shipments, vessel_capacity],
                      process_managers=[v1.booking_saga])


# -- ShipmentBooked, schema version 2: an incoterm was added ------------------------------
class ShipmentBooked(v1.ShipmentBooked):
    schema_version = 2

    incoterm: str


class BookWithIncoterm(v1.BookShipment):
    incoterm: str


class ShipmentV2(State):
    incoterm: str | None = None
    weight_kg: float = 0.0


shipment_v2 = Aggregate("Shipment", ShipmentV2())


@shipment_v2.applies(ShipmentBooked)
def booked(state: ShipmentV2, event: ShipmentBooked) -> ShipmentV2:
    return ShipmentV2(incoterm=event.incoterm, weight_kg=event.weight_kg)


@shipment_v2.executes(BookWithIncoterm)
def book(state: ShipmentV2, cmd: BookWithIncoterm) -> Decision:
    return ShipmentBooked(**cmd.model_dump(exclude={"aggregate_id"}))


def _unchanged(state: ShipmentV2, event: Event) -> ShipmentV2:
    return state


for _later in (v1.ShipmentConfirmed, v1.ShipmentCancelled, v1.ShipmentDeparted,
               v1.ShipmentDelivered, v1.CustomsAmended):
    shipment_v2.applies(_later)(_unchanged)


@shipment_v2.upcasts(ShipmentBooked, from_version=1)
def add_incoterm(data: dict[str, object]) -> dict[str, object]:
    """Bookings made before incoterms were recorded were all free on board."""
    return {**data, "incoterm": "FOB"}


v2 = Domain("shipping", aggregates=[shipment_v2, v1.vessel])
