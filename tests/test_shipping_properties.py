"""Live equals replay on the shipping domain (nested models, enums, datetimes, decimals,
floats, optional fields, dicts), on every adapter: for random command sequences, each
aggregate's state as the writer holds it equals a fresh replay by a new Application on the
same store, and the live projection rows equal the rows a rebuild from the log makes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_core import Application, Command
from incident_core.examples.shipping import (
    PORTS,
    Address,
    AmendCustoms,
    BookShipment,
    CancelShipment,
    DeliverShipment,
    DepartShipment,
    Dimensions,
    Leg,
    Mode,
    RegisterVessel,
    ReleaseCapacity,
    domain,
)
from incident_core.operations import rebuild
from incident_core.progress import Operation

# Each adapter runs in well under 30 s with these counts (the examples share one store).
EXAMPLES = {"memory": 40, "sqlite": 20, "postgres": 15}

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
               min_size=1, max_size=12)
zones = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5)),
                         timezone(timedelta(hours=5, minutes=45))])
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1),
                       timezones=zones)
ports = st.sampled_from(sorted(PORTS))


def measure(upper: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=0.01, max_value=upper, allow_nan=False, allow_infinity=False)


addresses = st.builds(Address, name=text, street=text, city=text,
                      country=st.sampled_from(["NL", "SG", "US", "BR"]),
                      postcode=st.none() | st.text("0123456789AB", min_size=1, max_size=8))
dimensions = st.builds(Dimensions, length_cm=measure(2000), width_cm=measure(500),
                       height_cm=measure(500))


@st.composite
def bookings(draw: st.DrawFn, shipment_id: str, vessels: list[str]) -> BookShipment:
    legs = [Leg(origin=draw(ports), destination=draw(ports), mode=draw(st.sampled_from(Mode)),
                departs_at=draw(moments), vessel_id=draw(st.none() | st.sampled_from(vessels)))
            for _ in range(draw(st.integers(1, 3)))]
    return BookShipment(
        aggregate_id=shipment_id, shipper=draw(addresses), consignee=draw(addresses),
        dimensions=draw(dimensions), weight_kg=draw(measure(100_000)),
        declared_value=draw(st.decimals(min_value=0, max_value=Decimal("999999999999.99"),
                                        places=2, allow_nan=False, allow_infinity=False)),
        legs=legs, customs_tags=draw(st.dictionaries(text, text, max_size=3)),
        reference=draw(st.none() | text), booked_at=draw(moments))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[str], str, list[Command]]:
    shipment_ids = [str(uuid4()) for _ in range(3)]
    vessel = f"IMO{draw(st.integers(1_000_000, 9_999_999))}"
    unknown_vessel = f"IMO{draw(st.integers(1_000_000, 9_999_999))}"
    commands: list[Command] = [RegisterVessel(
        aggregate_id=vessel, name=draw(text), capacity_teu=draw(st.integers(1, 6)),
        speed_knots=draw(measure(50)))]
    for _ in range(draw(st.integers(1, 8))):
        sid = draw(st.sampled_from(shipment_ids))
        commands.append(draw(st.one_of(
            bookings(sid, [vessel, unknown_vessel]),
            st.builds(CancelShipment, aggregate_id=st.just(sid), reason=text),
            st.builds(DepartShipment, aggregate_id=st.just(sid), at=moments),
            st.builds(DeliverShipment, aggregate_id=st.just(sid), at=moments),
            st.builds(AmendCustoms, aggregate_id=st.just(sid),
                      customs_tags=st.dictionaries(text, text, max_size=3)))))
    return shipment_ids, vessel, commands


def run(operation: Operation[Any]) -> Any:
    while True:
        try:
            next(operation)
        except StopIteration as stop:
            return stop.value


@pytest.fixture
def writer(store_target: str) -> Iterator[Application]:
    app = Application.open(store_target, domain, create=True)
    try:
        yield app
    finally:
        app.close()


def _probe(aggregate_id: str) -> Command:
    if aggregate_id.startswith("IMO"):
        return ReleaseCapacity(aggregate_id=aggregate_id, shipment_id=str(uuid4()))
    return CancelShipment(aggregate_id=aggregate_id, reason="probe")


def live_equals_replay(writer: Application, scenario: tuple[list[str], str, list[Command]],
                       ) -> None:
    shipment_ids, vessel, commands = scenario
    for command in commands:
        writer.dispatch(command)  # accepted or rejected: both are part of the story
    # What the writer holds (its state cache, filled on the command path) ...
    live = {i: writer.preview(_probe(i)).before for i in [*shipment_ids, vessel]}
    live_rows = {p.name: writer.store.projection_rows(p.spec)
                 for p in domain.projections.values()}
    # ... equals a fresh replay of the stored log by a new Application on the same store.
    fresh = Application(writer.store, domain)
    for aggregate_id, state in live.items():
        replayed = fresh.state(aggregate_id)
        if state.version == 0:
            assert replayed is None
        else:
            assert replayed == state, aggregate_id
    run(rebuild(fresh, sorted(domain.projections)))
    for projection in domain.projections.values():
        rebuilt = writer.store.projection_rows(projection.spec)
        assert rebuilt == live_rows[projection.name], projection.name


def test_live_state_and_rows_equal_a_replay(writer: Application,
                                           request: pytest.FixtureRequest) -> None:
    adapter = request.node.callspec.params["store_target"]

    @settings(max_examples=EXAMPLES[adapter], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(scenario=scenarios())
    def check(scenario: tuple[list[str], str, list[Command]]) -> None:
        live_equals_replay(writer, scenario)

    check()
    assert writer.store.head() > EXAMPLES[adapter]  # every example wrote to the store
    assert writer.store.projection_row_count(domain.projections["shipments"].spec) > 0
