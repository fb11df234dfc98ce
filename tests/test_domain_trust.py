"""Issue 8, findings 5 (a store written with the wrong domain), 6 (aggregate id types the
domain refuses when it is defined) and 7 (schema evolution, changed projection row models),
reproduced on the shipping domain."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import Field

from incident_core import Aggregate, Application, Command, Domain, Event, State, open_store
from incident_core.engine.binding import (
    DomainMismatchError,
    binding_of,
    check_domain,
    open_application,
)
from incident_core.errors import DomainDefinitionError, NewerEventSchemaError
from incident_core.examples import bank
from incident_core.examples import shipping as v1
from tests import shipping_variants as later
from tests.shipping_data import book, register_vessel
from tests.test_shipping_domain import incident, ok

SHIPPING = "incident_core.examples.shipping:domain"


def seeded(target: str) -> str:
    """A shipping store holding a vessel and a booking, bound to the shipping domain."""
    opened = open_application(target, v1.domain, module=SHIPPING, create=True)
    with opened.app as app:
        app.dispatch(register_vessel())
        sid = str(uuid4())
        app.dispatch(book(sid))
    return sid


def tables(target: str) -> set[str]:
    from sqlalchemy import create_engine, inspect

    url = target if "://" in target else f"sqlite:///{target}"
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# -- finding 5: a store knows its domain -------------------------------------------------
def test_a_store_records_its_domain_on_first_write(store_target: str) -> None:
    opened = open_application(store_target, v1.domain, module=SHIPPING, create=True)
    with opened.app as app:
        binding = binding_of(app.store)
        assert binding is not None
        assert (binding.name, binding.module) == ("shipping", SHIPPING)
        with pytest.raises(DomainMismatchError, match="belongs to domain 'shipping'"):
            check_domain(app.store, bank.domain, module=None, writing=True)
        assert binding_of(app.store) == binding  # never rebound


def test_the_bank_cannot_write_a_shipping_store(shared_target: str) -> None:
    seeded(shared_target)
    before = tables(shared_target)
    done = incident(shared_target, "rebuild", "--all",
                    domain_spec="incident_core.examples.bank:domain")
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == [
        f"incident: {_shown(shared_target)} belongs to domain 'shipping' ({SHIPPING}), not "
        f"'bank'; refusing to write it (pass --domain {SHIPPING})"]
    assert tables(shared_target) == before  # no bank tables in someone else's store


def test_without_domain_the_cli_uses_the_one_the_store_records(shared_target: str) -> None:
    seeded(shared_target)
    report = ok(shared_target, "rebuild", "--all", domain_spec=None)
    assert {p["name"] for p in report["projections"]} == {"shipments", "vessel_capacity"}


def test_reading_with_another_domain_warns(shared_target: str) -> None:
    sid = seeded(shared_target)
    done = incident(shared_target, "state", sid,
                    domain_spec="incident_core.examples.bank:domain")
    assert "warning:" in done.stderr and "belongs to domain 'shipping'" in done.stderr


def test_a_recorded_domain_that_cannot_be_imported_says_what_to_pass(tmp_path: Path) -> None:
    target = str(tmp_path / "cargo.sqlite3")
    opened = open_application(target, v1.domain, module="gone_away.cargo:domain", create=True)
    opened.app.close()
    done = incident(target, "projections", domain_spec=None)
    assert done.returncode == 2
    assert "belongs to domain 'shipping' (gone_away.cargo:domain)" in done.stderr
    assert "pass --domain MODULE:ATTR" in done.stderr


def test_an_old_unbound_store_is_bound_by_its_first_write_unless_foreign(
        tmp_path: Path) -> None:
    target = str(tmp_path / "old.sqlite3")
    with Application.open(target, v1.domain, create=True) as app:  # no binding recorded
        app.dispatch(register_vessel())
    done = incident(target, "dispatch", "OpenAccount", "--data",
                    json.dumps({"aggregate_id": "A"}), domain_spec=None)
    assert done.returncode == 4 and "VesselRegistered" in done.stderr
    ok(target, "rebuild", "--all")  # with --domain shipping: binds it
    with open_store(target, read_only=True) as store:
        assert binding_of(store) is not None and binding_of(store).name == "shipping"  # type: ignore[union-attr]


def _shown(target: str) -> str:
    from incident_core.store.open import describe_target

    return describe_target(target)


# -- finding 6: aggregate ids the domain refuses when it is defined ---------------------
def _domain_with_id(annotation: Any) -> Domain:
    class Track(Command):
        aggregate_id: annotation = Field(description="the thing")  # type: ignore[valid-type]

    class Tracked(Event):
        pass

    thing = Aggregate("Thing", State())
    thing.executes(Track)(lambda state, cmd: Tracked())
    thing.applies(Tracked)(lambda state, event: state)
    return Domain("things", aggregates=[thing])


@pytest.mark.parametrize("annotation", [float, dict[str, str], UUID | None, bool, bytes])
def test_an_aggregate_id_without_a_canonical_text_form_is_refused(annotation: Any) -> None:
    with pytest.raises(DomainDefinitionError, match=r"Track\.aggregate_id is declared as .*"
                       "must be str, int or UUID"):
        _domain_with_id(annotation)


@pytest.mark.parametrize("annotation", [str, int, UUID])
def test_str_int_and_uuid_ids_are_accepted(annotation: Any) -> None:
    assert "Track" in _domain_with_id(annotation).command_types


def test_a_uuid_id_works_end_to_end(store_target: str) -> None:
    domain = _domain_with_id(UUID)
    thing_id = uuid4()
    with Application.open(store_target, domain, create=True) as app:
        assert app.dispatch(domain.parse_command("Track", {"aggregate_id": str(thing_id)})).ok
        found = app.state(str(thing_id))
        assert found is not None and found.version == 1


# -- finding 7: schema evolution -----------------------------------------------------------
class Renamed(Event):
    schema_version = 3
    title: str


def _aggregate_for(event_type: type[Event]) -> Aggregate[State]:
    thing = Aggregate("Thing", State())
    thing.applies(event_type)(lambda state, event: state)
    return thing


def test_a_schema_bump_without_its_upcasters_is_refused_when_the_domain_is_built() -> None:
    thing = _aggregate_for(Renamed)
    thing.upcasts(Renamed, from_version=1)(lambda data: data)
    with pytest.raises(DomainDefinitionError, match=r"Renamed\.schema_version is 3 but there "
                       r"is no upcaster from version 2 \(needed: one from each version 1 to 2"):
        Domain("things", aggregates=[thing])


def test_an_upcaster_without_a_bump_is_refused() -> None:
    thing = _aggregate_for(v1.ShipmentDeparted)
    with pytest.raises(DomainDefinitionError, match=re.escape(
            "upcaster for ShipmentDeparted from version 1 would never run: "
            "ShipmentDeparted.schema_version is 1")):
        thing.upcasts(v1.ShipmentDeparted, from_version=1)
    with pytest.raises(DomainDefinitionError, match="from version 3 would never run"):
        v1.domain.upcaster(Renamed, 3)


def test_old_events_replay_through_the_upcaster(store_target: str) -> None:
    app = Application.open(store_target, v1.domain, create=True)
    sid = str(uuid4())
    app.dispatch(book(sid, vessel_id=None))
    if store_target == "memory:":
        app.domain = later.v2  # the same store, the new code
        newer = app
    else:
        app.close()
        newer = Application.open(store_target, later.v2, read_only=True)
    with newer:
        found = newer.state(sid)
        assert found is not None
        assert found.state == later.ShipmentV2(incoterm="FOB", weight_kg=412.75)


def test_an_event_newer_than_the_domain_is_a_clear_error(tmp_path: Path) -> None:
    target = str(tmp_path / "newer.sqlite3")
    sid = str(uuid4())
    with Application.open(target, later.v2, create=True) as app:
        fields = book(sid, vessel_id=None).model_dump()
        assert app.dispatch(later.BookWithIncoterm(**fields, incoterm="CIF")).ok
    with Application.open(target, v1.domain, read_only=True) as old, \
            pytest.raises(NewerEventSchemaError, match=re.escape(
                "ShipmentBooked event has schema_version 2, newer than this domain's "
                "ShipmentBooked.schema_version 1")):
        old.state(sid)


# -- finding 7: a projection whose row model changed -----------------------------------------
def test_a_changed_row_model_is_named_with_its_fix(shared_target: str) -> None:
    seeded(shared_target)
    changed = "tests.shipping_variants:changed_rows"
    done = incident(shared_target, "projection", "vessel_capacity", domain_spec=changed)
    assert done.returncode == 4
    assert done.stderr.strip() == (
        "incident: projection vessel_capacity: its row model changed since its table was "
        "made; `incident rebuild vessel_capacity` rebuilds it from the log")
    done = incident(shared_target, "verify", domain_spec=changed)
    assert done.returncode == 3 and "no such column" not in done.stdout + done.stderr
    assert "`incident rebuild vessel_capacity`" in done.stdout + done.stderr
    ok(shared_target, "rebuild", "vessel_capacity", domain_spec=changed)
    [row] = ok(shared_target, "projection", "vessel_capacity", domain_spec=changed)
    assert row["speed_knots"] == 21.5 and row["reserved_teu"] == 1
    assert ok(shared_target, "verify", domain_spec=changed)["ok"] is True
