"""Generated forms for real domains: nested models, lists of models, enums, date-times with
time zones, dicts — with the field's full path in every error. A small shipping domain is
defined here (importable as tests.gui.test_command_forms:domain for the real window)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, Field
from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QGroupBox,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTimeEdit,
)

from incident_core import Aggregate, Application, Command, Decision, Domain, Event, State
from incident_core.examples.library import domain as library_domain
from incident_gui.tasks.workers import active_workers
from incident_gui.widgets.command_form import CommandForm
from incident_gui.widgets.command_panel import CommandPanel


class Port(Enum):
    ROTTERDAM = "NLRTM"
    SINGAPORE = "SGSIN"
    SHANGHAI = "CNSHA"


class Address(BaseModel):
    street: str = Field(min_length=1)
    city: str = Field(min_length=1)
    country: Literal["NL", "SG", "CN"]


class Leg(BaseModel):
    destination: Port
    departs_at: dt.datetime
    weight_kg: Decimal = Field(gt=0, decimal_places=1)


class BookShipment(Command):
    """Book a shipment over one or more legs."""

    shipper: Address
    consignee: Address | None = None
    legs: list[Leg] = Field(min_length=1)
    ready_on: dt.date
    cutoff: dt.time | None = None
    labels: dict[str, str] = {}
    reference: UUID
    priority: Literal["low", "high"] = "low"


class ShipmentBooked(Event):
    shipper: Address
    consignee: Address | None
    legs: list[Leg]
    ready_on: dt.date
    cutoff: dt.time | None
    labels: dict[str, str]
    reference: UUID
    priority: str


class ShipmentState(State):
    legs: int = 0


shipment = Aggregate("Shipment", ShipmentState())


@shipment.executes(BookShipment)
def book(state: ShipmentState, cmd: BookShipment) -> Decision:
    return ShipmentBooked(**cmd.model_dump(exclude={"aggregate_id"}))


@shipment.applies(ShipmentBooked)
def booked(state: ShipmentState, event: ShipmentBooked) -> ShipmentState:
    return ShipmentState(legs=len(event.legs))


domain = Domain("shipping-test", aggregates=[shipment])
_LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def workers_done(qtbot: Any) -> Iterator[None]:
    yield
    qtbot.waitUntil(lambda: active_workers() == [], timeout=5000)


@pytest.fixture
def form(qtbot: Any) -> CommandForm:
    widget = CommandForm()
    qtbot.addWidget(widget)
    widget.resize(700, 900)
    widget.show()
    widget.set_command(domain, "BookShipment")
    return widget


def child(widget: Any, kind: type, name: str) -> Any:
    found = widget.findChild(kind, name)
    assert found is not None, name
    return found


def type_into(qtbot: Any, widget: Any, name: str, text: str) -> None:
    edit = child(widget, QLineEdit, f"field_{name}")
    edit.clear()
    qtbot.keyClicks(edit, text)


def fill_valid(qtbot: Any, widget: Any, legs: int = 2) -> None:
    type_into(qtbot, widget, "aggregate_id", "ship-1")
    type_into(qtbot, widget, "shipper.street", "Wilhelminakade 1")
    type_into(qtbot, widget, "shipper.city", "Rotterdam")
    child(widget, QComboBox, "field_shipper.country").setCurrentText("NL")
    for index in range(legs):
        qtbot.mouseClick(child(widget, QPushButton, "add_legs"), _LEFT)
        child(widget, QComboBox, f"field_legs[{index}].destination").setCurrentIndex(index + 1)
        type_into(qtbot, widget, f"legs[{index}].weight_kg", f"{index + 1}0.5")
    qtbot.mouseClick(child(widget, QPushButton, "generate_reference"), _LEFT)


# -- editors ------------------------------------------------------------------------------
def test_every_kind_gets_its_editor(form: CommandForm) -> None:
    assert form.field_names() == ["aggregate_id", "shipper", "consignee", "legs", "ready_on",
                                  "cutoff", "labels", "reference", "priority"]
    shipper = child(form, QGroupBox, "field_shipper")
    assert not shipper.isCheckable()  # required
    assert child(form, QGroupBox, "field_consignee").isCheckable()  # optional: a check box
    country = child(form, QComboBox, "field_shipper.country")
    assert [country.itemText(i) for i in range(country.count())] == ["Choose…", "NL", "SG",
                                                                      "CN"]
    assert isinstance(child(form, QDateEdit, "field_ready_on"), QDateEdit)
    assert isinstance(child(form, QTimeEdit, "field_cutoff"), QTimeEdit)
    assert not child(form, QCheckBox, "set_cutoff").isChecked()  # optional, not given
    assert "JSON object" in child(form, QPlainTextEdit, "field_labels").placeholderText()
    child(form, QPushButton, "generate_reference")
    assert child(form, QComboBox, "field_priority").currentText() == "low"
    assert form.findChild(QComboBox, "field_legs[0].destination") is None  # no rows yet


def test_a_filled_form_becomes_a_typed_command_with_nested_models(
        form: CommandForm, qtbot: Any) -> None:
    fill_valid(qtbot, form)
    departs = child(form, QDateTimeEdit, "field_legs[1].departs_at")
    departs.setDateTime(QDateTime(QDate(2026, 3, 1), QTime(9, 30, 0)))
    child(form, QComboBox, "zone_legs[1].departs_at").setCurrentText("Asia/Tokyo")
    child(form, QDateEdit, "field_ready_on").setDate(QDate(2026, 2, 27))
    child(form, QCheckBox, "set_cutoff").setChecked(True)
    child(form, QTimeEdit, "field_cutoff").setTime(QTime(17, 45, 0))
    child(form, QPlainTextEdit, "field_labels").setPlainText('{"fragile": "yes"}')
    command = form.command()
    assert isinstance(command, BookShipment), form.values()
    assert command.shipper == Address(street="Wilhelminakade 1", city="Rotterdam",
                                      country="NL")
    assert command.consignee is None
    assert [leg.destination for leg in command.legs] == [Port.ROTTERDAM, Port.SINGAPORE]
    assert [leg.weight_kg for leg in command.legs] == [Decimal("10.5"), Decimal("20.5")]
    assert command.legs[1].departs_at == dt.datetime(2026, 3, 1, 9, 30,
                                                     tzinfo=ZoneInfo("Asia/Tokyo"))
    assert command.legs[1].departs_at.utcoffset() == dt.timedelta(hours=9)
    assert command.legs[0].departs_at.tzinfo is not None  # UTC by default
    assert (command.ready_on, command.cutoff) == (dt.date(2026, 2, 27), dt.time(17, 45))
    assert command.labels == {"fragile": "yes"} and isinstance(command.reference, UUID)


def test_an_error_deep_in_a_list_names_its_full_path(form: CommandForm, qtbot: Any) -> None:
    fill_valid(qtbot, form)
    type_into(qtbot, form, "legs[1].weight_kg", "0")
    qtbot.waitUntil(lambda: form.field_error("legs[1].weight_kg") != "", timeout=3000)
    assert form.field_error("legs[1].weight_kg") == (
        "legs[1].weight_kg: Input should be greater than 0")
    assert form.field_error("legs[0].weight_kg") == "" and form.command() is None
    child(form, QComboBox, "field_legs[0].destination").setCurrentIndex(0)  # "Choose…"
    qtbot.waitUntil(lambda: form.field_error("legs[0].destination") != "", timeout=3000)
    assert form.field_error("legs[0].destination") == "legs[0].destination: Field required"


def test_an_empty_required_sub_form_lists_what_is_still_needed(form: CommandForm) -> None:
    hint = child(form, type(form._hint), "commandFormHint")
    assert "shipper.street, shipper.city, shipper.country" in hint.text()
    assert "Legs" in hint.text()
    assert form.field_error("legs") == ""  # not touched yet: listed, not flagged
    assert form.command() is None


def test_rows_are_added_reordered_and_removed(form: CommandForm, qtbot: Any) -> None:
    fill_valid(qtbot, form, legs=3)
    before = [leg["destination"] for leg in form.values()["legs"]]
    assert before == ["NLRTM", "SGSIN", "CNSHA"]
    qtbot.mouseClick(child(form, QPushButton, "up_legs[2]"), _LEFT)
    assert [leg["destination"] for leg in form.values()["legs"]] == ["NLRTM", "CNSHA",
                                                                     "SGSIN"]
    assert not child(form, QPushButton, "up_legs[0]").isEnabled()
    assert not child(form, QPushButton, "down_legs[2]").isEnabled()
    qtbot.mouseClick(child(form, QPushButton, "remove_legs[0]"), _LEFT)
    values = form.values()["legs"]
    assert [leg["destination"] for leg in values] == ["CNSHA", "SGSIN"]
    assert [leg["weight_kg"] for leg in values] == ["30.5", "20.5"]  # rows keep their input
    command = form.command()
    assert command is not None and len(command.legs) == 2


def test_no_rows_is_an_error_on_the_list(form: CommandForm, qtbot: Any) -> None:
    fill_valid(qtbot, form, legs=1)
    qtbot.mouseClick(child(form, QPushButton, "remove_legs[0]"), _LEFT)
    qtbot.waitUntil(lambda: form.field_error("legs") != "", timeout=3000)
    assert form.field_error("legs").startswith("legs: List should have at least 1 item")


def test_a_dict_is_checked_as_json_with_its_path(form: CommandForm, qtbot: Any) -> None:
    fill_valid(qtbot, form)
    labels = child(form, QPlainTextEdit, "field_labels")
    labels.setPlainText('{"fragile": ')
    qtbot.waitUntil(lambda: form.field_error("labels") != "", timeout=3000)
    assert form.field_error("labels").startswith("labels: not valid JSON: Expecting value")
    assert form.command() is None
    labels.setPlainText('{"fragile": 3}')
    qtbot.waitUntil(lambda: form.field_error("labels") ==
                    "labels.fragile: Input should be a valid string", timeout=3000)
    labels.setPlainText('{"fragile": "yes"}')
    qtbot.waitUntil(lambda: form.field_error("labels") == "", timeout=3000)
    assert form.command() is not None


def test_an_optional_sub_form_is_given_only_when_checked(form: CommandForm, qtbot: Any) -> None:
    fill_valid(qtbot, form)
    consignee = child(form, QGroupBox, "field_consignee")
    consignee.setChecked(True)
    qtbot.waitUntil(lambda: form.command() is None, timeout=3000)
    type_into(qtbot, form, "consignee.street", "Marina Bay 2")
    type_into(qtbot, form, "consignee.city", "Singapore")
    child(form, QComboBox, "field_consignee.country").setCurrentText("SG")
    command = form.command()
    assert command is not None and command.consignee == Address(
        street="Marina Bay 2", city="Singapore", country="SG")
    consignee.setChecked(False)
    command = form.command()
    assert command is not None and command.consignee is None


def test_each_command_type_starts_from_its_own_defaults(qtbot: Any) -> None:
    form = CommandForm()
    qtbot.addWidget(form)
    form.set_command(library_domain, "RegisterMember")
    assert child(form, QLineEdit, "field_deposit").text() == ""
    type_into(qtbot, form, "aggregate_id", "m-1")
    type_into(qtbot, form, "name", "Ann")
    form.set_command(library_domain, "AddBook")
    assert child(form, QLineEdit, "field_aggregate_id").text() == ""
    form.set_command(library_domain, "RegisterMember")
    assert child(form, QLineEdit, "field_name").text() == ""


def test_the_library_forms(qtbot: Any) -> None:
    form = CommandForm()
    qtbot.addWidget(form)
    form.set_command(library_domain, "RegisterMember")
    plan = child(form, QComboBox, "field_plan")
    assert plan.currentText() == "standard"
    type_into(qtbot, form, "aggregate_id", "m-1")
    type_into(qtbot, form, "name", "Ann")
    type_into(qtbot, form, "deposit", "12.345")
    qtbot.waitUntil(lambda: form.field_error("deposit") != "", timeout=3000)
    assert form.field_error("deposit").startswith("deposit: Decimal input should have no "
                                                  "more than 2 decimal places")
    type_into(qtbot, form, "deposit", "12.34")
    command = form.command()
    assert command is not None and command.model_dump()["deposit"] == Decimal("12.34")


# -- through the real window ---------------------------------------------------------------
def test_a_nested_command_is_dispatched_from_the_window(
        make_window: Callable[..., Any], tmp_path: Path, qtbot: Any) -> None:
    target = str(tmp_path / "shipping.sqlite3")
    Application.open(target, domain, create=True).close()
    window = make_window(target, domain="tests.gui.test_command_forms:domain")
    tabs = child(window, QTabWidget, "sideTabs")
    panel = child(window, CommandPanel, "commandPanel")
    tabs.setCurrentWidget(panel)
    panel.select_command("BookShipment")
    fill_valid(qtbot, panel, legs=2)
    with qtbot.waitSignal(panel.sig_dispatched, timeout=5000) as blocker:
        panel.dispatch()
    [event] = blocker.args[0]
    assert event.event_type == "ShipmentBooked"
    assert [leg["destination"] for leg in event.data["legs"]] == ["NLRTM", "SGSIN"]
    assert event.data["shipper"]["city"] == "Rotterdam"
    app = Application.open(target, domain)
    try:
        state = app.state("ship-1")
        assert state is not None and state.state == ShipmentState(legs=2)
    finally:
        app.close()
