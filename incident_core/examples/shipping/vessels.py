"""Vessels (aggregate ``Vessel``, id = IMO number): capacity in TEU reserved by shipments."""

from __future__ import annotations

from pydantic import Field

from incident_core.domain import Aggregate, Command, Decision, Event, Rejection, State
from incident_core.examples.shipping.values import ShipmentId

__all__ = [
    "CapacityReleased", "CapacityReserved", "RegisterVessel", "ReleaseCapacity",
    "ReserveCapacity", "VesselRegistered", "VesselState", "vessel",
]


class VesselCommand(Command):
    aggregate_id: str = Field(pattern=r"^IMO\d{7}$", description="The vessel's IMO number")


class RegisterVessel(VesselCommand):
    name: str = Field(min_length=1, max_length=100)
    capacity_teu: int = Field(gt=0, le=30_000)
    speed_knots: float = Field(gt=0, le=50)


class ReserveCapacity(VesselCommand):
    """Internal (booking saga): hold room for a shipment."""

    shipment_id: ShipmentId
    teu: int = Field(gt=0)


class ReleaseCapacity(VesselCommand):
    """Internal (booking saga): a cancelled shipment gives its room back."""

    shipment_id: ShipmentId


class VesselRegistered(Event):
    name: str
    capacity_teu: int
    speed_knots: float


class CapacityReserved(Event):
    shipment_id: str
    teu: int


class CapacityReleased(Event):
    shipment_id: str
    teu: int


class VesselState(State):
    name: str | None = None
    capacity_teu: int = 0
    reservations: dict[str, int] = Field(default_factory=dict)

    @property
    def reserved_teu(self) -> int:
        return sum(self.reservations.values())


vessel = Aggregate("Vessel", VesselState())


@vessel.executes(RegisterVessel)
def register(state: VesselState, cmd: RegisterVessel) -> Decision:
    if state.name is not None:
        return Rejection("already_registered")
    return VesselRegistered(name=cmd.name, capacity_teu=cmd.capacity_teu,
                            speed_knots=cmd.speed_knots)


@vessel.executes(ReserveCapacity)
def reserve(state: VesselState, cmd: ReserveCapacity) -> Decision:
    if state.name is None:
        return Rejection("unknown_vessel", cmd.aggregate_id)
    if cmd.shipment_id in state.reservations:
        return []
    free = state.capacity_teu - state.reserved_teu
    if cmd.teu > free:
        return Rejection("no_capacity", f"{free} TEU free, {cmd.teu} asked")
    return CapacityReserved(shipment_id=cmd.shipment_id, teu=cmd.teu)


@vessel.executes(ReleaseCapacity)
def release(state: VesselState, cmd: ReleaseCapacity) -> Decision:
    teu = state.reservations.get(cmd.shipment_id)
    if teu is None:
        return []
    return CapacityReleased(shipment_id=cmd.shipment_id, teu=teu)


@vessel.applies(VesselRegistered)
def registered(state: VesselState, event: VesselRegistered) -> VesselState:
    return VesselState(name=event.name, capacity_teu=event.capacity_teu)


@vessel.applies(CapacityReserved)
def reserved(state: VesselState, event: CapacityReserved) -> VesselState:
    return state.model_copy(update={
        "reservations": {**state.reservations, event.shipment_id: event.teu}})


@vessel.applies(CapacityReleased)
def released(state: VesselState, event: CapacityReleased) -> VesselState:
    rest = {k: v for k, v in state.reservations.items() if k != event.shipment_id}
    return state.model_copy(update={"reservations": rest})
