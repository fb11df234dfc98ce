"""Value objects of the shipping example: addresses, dimensions, legs, modes and ports."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "PORTS",
    "Address",
    "Dimensions",
    "Leg",
    "Mode",
    "ShipmentId",
    "ShipmentStatus",
    "UnknownPort",
    "port_name",
]

# The ports the booking saga knows (UN/LOCODE → name). Legs may name any well-formed code;
# the saga fails on one it does not know (the example's deliberately failing step).
PORTS = {
    "NLRTM": "Rotterdam", "DEHAM": "Hamburg", "SGSIN": "Singapore", "CNSHA": "Shanghai",
    "USNYC": "New York", "BRSSZ": "Santos",
}


class UnknownPort(ValueError):
    """A leg names a port the booking saga has no data for."""


def port_name(code: str) -> str:
    try:
        return PORTS[code]
    except KeyError:
        raise UnknownPort(f"unknown port {code}") from None


def _canonical_uuid(value: str) -> str:
    return str(UUID(value))


# A shipment id is a UUID in its canonical text form (any spelling UUID() accepts).
ShipmentId = Annotated[str, Field(min_length=32, max_length=45), AfterValidator(_canonical_uuid)]
Locode = Annotated[str, Field(pattern=r"^[A-Z]{2}[A-Z2-9]{3}$", description="UN/LOCODE")]


class Mode(StrEnum):
    SEA = "sea"
    AIR = "air"
    RAIL = "rail"
    ROAD = "road"


class ShipmentStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(Value):
    name: str = Field(min_length=1, max_length=100)
    street: str = Field(min_length=1, max_length=100)
    city: str = Field(min_length=1, max_length=60)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 country code")
    postcode: str | None = Field(default=None, max_length=12)


class Dimensions(Value):
    length_cm: float = Field(gt=0, le=2000)
    width_cm: float = Field(gt=0, le=500)
    height_cm: float = Field(gt=0, le=500)

    @property
    def volume_m3(self) -> float:
        return self.length_cm * self.width_cm * self.height_cm / 1_000_000


class Leg(Value):
    origin: Locode
    destination: Locode
    mode: Mode = Mode.SEA
    departs_at: AwareDatetime
    vessel_id: str | None = Field(default=None, max_length=20,
                                  description="The vessel of a sea leg (IMO number)")
