"""The shipping and bank domains with their projections written for dict folding
(`row_form="dict"`): the same tables, handlers that build plain dicts where the examples
build or copy row models (shared by the dict-row tests)."""

from __future__ import annotations

from typing import Any

from incident_core.domain import Domain
from incident_core.envelope import RecordedEvent
from incident_core.examples import bank, shipping
from incident_core.examples.bank.accounts import (
    AccountOpened,
    MoneyDeposited,
    MoneyReceived,
    MoneySent,
    MoneySentReverted,
    MoneyWithdrawn,
)
from incident_core.examples.bank.projections import AccountRow
from incident_core.examples.shipping.projections import ShipmentRow, VesselRow
from incident_core.examples.shipping.shipments import (
    ShipmentBooked,
    ShipmentCancelled,
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentDeparted,
)
from incident_core.examples.shipping.values import ShipmentStatus
from incident_core.examples.shipping.vessels import (
    CapacityReleased,
    CapacityReserved,
    VesselRegistered,
)
from incident_core.projections import Projection

Row = dict[str, Any]

shipments = Projection("shipments", ShipmentRow, row_form="dict")
vessel_capacity = Projection("vessel_capacity", VesselRow, row_form="dict")
accounts = Projection("bank_accounts", AccountRow, row_form="dict")


@shipments.on(ShipmentBooked)
def booked(row: Row | None, event: ShipmentBooked, recorded: RecordedEvent) -> Row:
    first, last = event.legs[0], event.legs[-1]
    return {"aggregate_id": recorded.aggregate_id, "status": ShipmentStatus.BOOKED,
            "origin": first.origin, "destination": last.destination, "mode": first.mode,
            "weight_kg": event.weight_kg, "declared_value": event.declared_value,
            "booked_at": event.booked_at, "departed_at": None, "vessel_id": None,
            "legs": len(event.legs), "version": recorded.version}


def _update(row: Row | None, recorded: RecordedEvent, **changes: object) -> Row | None:
    return None if row is None else {**row, **changes, "version": recorded.version}


@shipments.on(ShipmentConfirmed)
def confirmed(row: Row | None, event: ShipmentConfirmed, recorded: RecordedEvent) -> Row | None:
    return _update(row, recorded, status=ShipmentStatus.CONFIRMED, vessel_id=event.vessel_id)


@shipments.on(ShipmentCancelled)
def cancelled(row: Row | None, event: ShipmentCancelled, recorded: RecordedEvent) -> Row | None:
    return _update(row, recorded, status=ShipmentStatus.CANCELLED)


@shipments.on(ShipmentDeparted)
def departed(row: Row | None, event: ShipmentDeparted, recorded: RecordedEvent) -> Row | None:
    return _update(row, recorded, status=ShipmentStatus.IN_TRANSIT, departed_at=event.at)


@shipments.on(ShipmentDelivered)
def delivered(row: Row | None, event: ShipmentDelivered, recorded: RecordedEvent) -> Row | None:
    return _update(row, recorded, status=ShipmentStatus.DELIVERED)


@vessel_capacity.on(VesselRegistered)
def registered(row: Row | None, event: VesselRegistered, recorded: RecordedEvent) -> Row:
    return {"aggregate_id": recorded.aggregate_id, "name": event.name,
            "capacity_teu": event.capacity_teu, "reserved_teu": 0, "utilisation": 0.0}


def _reserved(row: Row | None, teu: int) -> Row | None:
    if row is None:
        return None
    reserved = row["reserved_teu"] + teu
    return {**row, "reserved_teu": reserved, "utilisation": reserved / row["capacity_teu"]}


@vessel_capacity.on(CapacityReserved)
def reserved(row: Row | None, event: CapacityReserved, recorded: RecordedEvent) -> Row | None:
    return _reserved(row, event.teu)


@vessel_capacity.on(CapacityReleased)
def released(row: Row | None, event: CapacityReleased, recorded: RecordedEvent) -> Row | None:
    return _reserved(row, -event.teu)


@accounts.on(AccountOpened)
def opened(row: Row | None, event: AccountOpened, recorded: RecordedEvent) -> Row:
    return {"aggregate_id": recorded.aggregate_id, "account_number": event.account_number,
            "balance": 0, "version": recorded.version, "event_id": recorded.event_id,
            "event_date": recorded.recorded_at}


@accounts.on(MoneyDeposited, MoneyReceived, MoneySentReverted, MoneyWithdrawn, MoneySent)
def moved(row: Row | None, event: Any, recorded: RecordedEvent) -> Row | None:
    if row is None:
        return None
    sign = -1 if isinstance(event, MoneyWithdrawn | MoneySent) else 1
    return {**row, "balance": row["balance"] + sign * event.amount,
            "version": recorded.version, "event_id": recorded.event_id,
            "event_date": recorded.recorded_at}


def twin(domain: Domain, projections: list[Projection[Any]]) -> Domain:
    """`domain` with these projections in place of its own of the same names."""
    by_name = {**domain.projections, **{p.name: p for p in projections}}
    return Domain(domain.name, aggregates=list(domain.aggregates.values()),
                  projections=list(by_name.values()),
                  process_managers=list(domain.process_managers.values()))


shipping_dicts = twin(shipping.domain, [shipments, vessel_capacity])
bank_dicts = twin(bank.domain, [accounts])
