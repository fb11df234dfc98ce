"""Cargo shipping: shipments booked over legs, vessels with capacity, a booking saga
(third example, and the one that exercises every kind of value the engine must keep).

Shipments (aggregate ``Shipment``, id = a UUID in canonical text form) carry nested value
objects (``Address``, ``Dimensions``, a list of ``Leg``), enums (``Mode``,
``ShipmentStatus``), timezone-aware datetimes, a ``Decimal`` declared value, a ``float``
weight, optional fields and a ``dict`` of customs tags. Vessels (aggregate ``Vessel``, id =
IMO number) hold capacity in TEU. The ``booking_saga`` reserves room on the vessel of a
shipment's first sea leg and confirms or cancels the shipment; for a leg to a port it has
no data for, its handler raises (``UnknownPort``) — a process manager that can fail.
Projections: ``shipments`` (float weight, datetime columns) and ``vessel_capacity`` (float
utilisation).

Run it with ``--domain incident_core.examples.shipping:domain``::

    incident --db cargo.sqlite3 --domain incident_core.examples.shipping:domain init
    incident --db cargo.sqlite3 dispatch RegisterVessel \\
        '{"aggregate_id": "IMO9321483", "name": "Ever Given", "capacity_teu": 20000,
          "speed_knots": 22.8}'
"""

from incident_core.domain import Domain
from incident_core.examples.shipping.demo import shipping_demo
from incident_core.examples.shipping.projections import (
    ShipmentRow,
    VesselRow,
    shipments,
    vessel_capacity,
)
from incident_core.examples.shipping.saga import TEU_M3, booking_saga
from incident_core.examples.shipping.shipments import (
    AmendCustoms,
    BookShipment,
    CancelShipment,
    ConfirmShipment,
    CustomsAmended,
    DeliverShipment,
    DepartShipment,
    ShipmentBooked,
    ShipmentCancelled,
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentDeparted,
    ShipmentState,
    shipment,
)
from incident_core.examples.shipping.values import (
    PORTS,
    Address,
    Dimensions,
    Leg,
    Mode,
    ShipmentStatus,
    UnknownPort,
)
from incident_core.examples.shipping.vessels import (
    CapacityReleased,
    CapacityReserved,
    RegisterVessel,
    ReleaseCapacity,
    ReserveCapacity,
    VesselRegistered,
    VesselState,
    vessel,
)

domain = Domain(
    "shipping",
    aggregates=[shipment, vessel],
    projections=[shipments, vessel_capacity],
    process_managers=[booking_saga],
    public_commands=[RegisterVessel, BookShipment, CancelShipment, DepartShipment,
                     DeliverShipment, AmendCustoms],
    demo=shipping_demo,
)

__all__ = [
    "PORTS", "TEU_M3", "Address", "AmendCustoms", "BookShipment", "CancelShipment",
    "CapacityReleased", "CapacityReserved", "ConfirmShipment", "CustomsAmended",
    "DeliverShipment", "DepartShipment", "Dimensions", "Leg", "Mode", "RegisterVessel",
    "ReleaseCapacity", "ReserveCapacity", "ShipmentBooked", "ShipmentCancelled",
    "ShipmentConfirmed", "ShipmentDelivered", "ShipmentDeparted", "ShipmentRow",
    "ShipmentState", "ShipmentStatus", "UnknownPort", "VesselRegistered", "VesselRow",
    "VesselState", "booking_saga", "domain", "shipment", "shipments", "vessel",
    "vessel_capacity",
]
