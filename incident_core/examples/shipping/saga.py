"""The booking saga: a booked shipment reserves capacity on the vessel of its first sea leg.

* ``ShipmentBooked`` → ``ReserveCapacity`` on the vessel, then ``ConfirmShipment``; if the
  vessel refuses (unknown, full), ``CancelShipment`` with the reason. A booking with no
  sea leg is confirmed at once. Each leg's ports are looked up first: a port the saga has
  no data for makes the handler **raise** (``UnknownPort``) — the example's failing step.
* ``ShipmentCancelled`` → ``ReleaseCapacity`` on the vessel that held room for it.
"""

from __future__ import annotations

import math

from incident_core.envelope import RecordedEvent
from incident_core.examples.shipping.shipments import (
    CancelShipment,
    ConfirmShipment,
    ShipmentBooked,
    ShipmentCancelled,
)
from incident_core.examples.shipping.values import Mode, port_name
from incident_core.examples.shipping.vessels import ReleaseCapacity, ReserveCapacity
from incident_core.process import ProcessManager, Rejected, SagaContext

__all__ = ["TEU_M3", "booking_saga"]

booking_saga = ProcessManager("booking_saga")
TEU_M3 = 33.2  # the inside volume of a twenty-foot container


@booking_saga.on(ShipmentBooked)
def on_booked(event: ShipmentBooked, recorded: RecordedEvent, ctx: SagaContext) -> None:
    for leg in event.legs:
        port_name(leg.origin)  # raises UnknownPort
        port_name(leg.destination)
    sea = next((leg for leg in event.legs if leg.mode is Mode.SEA and leg.vessel_id), None)
    shipment_id = recorded.aggregate_id
    if sea is None or sea.vessel_id is None:
        ctx.dispatch(ConfirmShipment(aggregate_id=shipment_id, vessel_id=None))
        return
    teu = max(1, math.ceil(event.dimensions.volume_m3 / TEU_M3))
    outcome = ctx.dispatch(ReserveCapacity(aggregate_id=sea.vessel_id,
                                           shipment_id=shipment_id, teu=teu))
    if isinstance(outcome, Rejected):
        ctx.dispatch(CancelShipment(aggregate_id=shipment_id,
                                    reason=f"{outcome.reason}: {outcome.detail}"[:200]))
    else:
        ctx.dispatch(ConfirmShipment(aggregate_id=shipment_id, vessel_id=sea.vessel_id))


@booking_saga.on(ShipmentCancelled)
def on_cancelled(event: ShipmentCancelled, recorded: RecordedEvent, ctx: SagaContext) -> None:
    if event.vessel_id:
        ctx.dispatch(ReleaseCapacity(aggregate_id=event.vessel_id,
                                     shipment_id=recorded.aggregate_id))
