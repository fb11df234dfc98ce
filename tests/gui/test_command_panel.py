"""The command panel: a form generated from the command model, preview and dispatch."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pytest
from pydantic import Field, PositiveInt
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
)

from incident_core import (
    Aggregate,
    Application,
    Command,
    Conflicted,
    Decision,
    Domain,
    Event,
    State,
)
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.library import domain as library_domain
from incident_gui.tasks.workers import active_workers
from incident_gui.widgets import dialogs
from incident_gui.widgets.command_form import CommandForm
from incident_gui.widgets.command_panel import CommandPanel, describe_rejection


@pytest.fixture(autouse=True)
def workers_done(qtbot: Any) -> Iterator[None]:
    """Every worker delivers its ending signal (conftest then checks no QThread is left)."""
    yield
    qtbot.waitUntil(lambda: active_workers() == [], timeout=5000)


# -- a domain with one field of every kind -----------------------------------------------
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Everything(Command):
    """Exercise every editor kind."""

    title: str = Field(min_length=2, description="A title")
    count: PositiveInt
    price: Decimal = Field(ge=0, decimal_places=2)
    ratio: float = 0.5
    flag: bool = False
    maybe: bool | None = None
    colour: Colour
    size: Literal["S", "M", "L"] = "M"
    note: str | None = None
    ref: UUID
    tags: list[str] = []


class Explode(Command):
    """Domain code that raises."""


class Happened(Event):
    title: str


thing = Aggregate("Thing", State())


@thing.executes(Everything)
def everything(state: State, cmd: Everything) -> Decision:
    return Happened(title=cmd.title)


@thing.executes(Explode)
def explode(state: State, cmd: Explode) -> Decision:
    return Happened(title=str(1 / 0))


@thing.applies(Happened)
def happened(state: State, event: Happened) -> State:
    return state


test_domain = Domain("things", aggregates=[thing], public_commands=[Everything])


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture
def sqlite_bank(tmp_path: Path) -> Iterator[Application]:
    app = Application.open(str(tmp_path / "bank.sqlite3"), bank_domain, create=True)
    app.dispatch_data("OpenAccount", {"aggregate_id": "acc-1"})
    app.dispatch_data("DepositMoney", {"aggregate_id": "acc-1", "amount": 100})
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def panel(qtbot: Any) -> CommandPanel:
    widget = CommandPanel()
    qtbot.addWidget(widget)
    widget.resize(600, 600)
    widget.show()
    return widget


def child(widget: Any, kind: type, name: str) -> Any:
    found = widget.findChild(kind, name)
    assert found is not None, name
    return found


def fill(panel: CommandPanel, qtbot: Any, values: dict[str, str]) -> None:
    for name, text in values.items():
        editor = child(panel, QLineEdit, f"field_{name}")
        editor.clear()
        qtbot.keyClicks(editor, text)


def file_hash(path: Path) -> str:
    """The database file and its write-ahead log (the -shm index changes on reads)."""
    digest = hashlib.sha256()
    for part in (path, path.with_name(path.name + "-wal")):
        if part.exists():
            digest.update(part.read_bytes())
    return digest.hexdigest()


# -- form generation ----------------------------------------------------------------------
def test_the_form_has_an_editor_for_every_field_kind(qtbot: Any) -> None:
    form = CommandForm()
    qtbot.addWidget(form)
    form.set_command(test_domain, "Everything")
    assert form.field_names() == ["aggregate_id", "title", "count", "price", "ratio", "flag",
                                  "maybe", "colour", "size", "note", "ref", "tags"]
    for name in ("aggregate_id", "title", "count", "price", "ratio", "note", "ref", "tags"):
        child(form, QLineEdit, f"field_{name}")
    assert isinstance(child(form, QCheckBox, "field_flag"), QCheckBox)
    colour = child(form, QComboBox, "field_colour")
    assert [colour.itemText(i) for i in range(colour.count())] == ["Choose…", "red", "blue"]
    size = child(form, QComboBox, "field_size")
    assert size.currentText() == "M" and size.count() == 3
    maybe = child(form, QComboBox, "field_maybe")
    assert [maybe.itemText(i) for i in range(maybe.count())] == ["(not set)", "true", "false"]
    child(form, QPushButton, "generate_ref")
    count = child(form, QLineEdit, "field_count")
    assert "integer" in count.placeholderText() and "> 0" in count.placeholderText()
    assert "2 decimal places" in child(form, QLineEdit, "field_price").placeholderText()
    assert "A title" in child(form, QLineEdit, "field_title").toolTip()
    labels = {label.text() for label in form.findChildren(QLabel)}
    assert {"Title *", "Count *", "Colour *", "Ref *", "Ratio", "Note"} <= labels


def test_form_values_become_a_typed_command(qtbot: Any) -> None:
    form = CommandForm()
    qtbot.addWidget(form)
    form.set_command(test_domain, "Everything")
    for name, text in {"aggregate_id": "t-1", "title": "Hello", "count": "12345678901234567890",
                       "price": "9.99", "ratio": "1e-3", "tags": '["a", "b"]'}.items():
        qtbot.keyClicks(child(form, QLineEdit, f"field_{name}"), text)
    qtbot.mouseClick(child(form, QPushButton, "generate_ref"), Qt.MouseButton.LeftButton)
    child(form, QComboBox, "field_colour").setCurrentIndex(2)
    child(form, QComboBox, "field_maybe").setCurrentIndex(2)
    child(form, QCheckBox, "field_flag").setChecked(True)
    command = form.command()
    assert isinstance(command, Everything)
    assert command.count == 12345678901234567890 and command.price == Decimal("9.99")
    assert (command.ratio, command.flag, command.maybe) == (0.001, True, False)
    assert (command.colour, command.size, command.note) == (Colour.BLUE, "M", None)
    assert isinstance(command.ref, UUID) and command.tags == ["a", "b"]


def test_integer_fields_refuse_letters(qtbot: Any) -> None:
    form = CommandForm()
    qtbot.addWidget(form)
    form.set_command(bank_domain, "DepositMoney")
    amount = child(form, QLineEdit, "field_amount")
    qtbot.keyClicks(amount, "1a2")
    assert amount.text() == "12"


# -- inline errors --------------------------------------------------------------------------
def test_field_errors_appear_while_typing_and_disappear_when_fixed(
        panel: CommandPanel, qtbot: Any, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.select_command("DepositMoney")
    fill(panel, qtbot, {"aggregate_id": "acc-1", "amount": "0"})
    error = child(panel, QLabel, "error_amount")
    qtbot.waitUntil(error.isVisible, timeout=3000)
    assert error.text() == "amount: Input should be greater than 0"  # the path, always
    assert not child(panel, QPushButton, "dispatchButton").isEnabled()
    assert not child(panel, QPushButton, "previewButton").isEnabled()
    qtbot.keyClicks(child(panel, QLineEdit, "field_amount"), "5")  # "05" is 5
    qtbot.waitUntil(lambda: not error.isVisible(), timeout=3000)
    assert child(panel, QPushButton, "dispatchButton").isEnabled()


def test_untouched_required_fields_are_listed_not_flagged(
        panel: CommandPanel, qtbot: Any, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.select_command("DepositMoney")
    assert not child(panel, QLabel, "error_amount").isVisible()
    hint = child(panel, QLabel, "commandFormHint")
    assert hint.isVisible() and "Amount" in hint.text()


def test_a_model_level_error_shows_in_the_general_label(
        panel: CommandPanel, qtbot: Any, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.select_command("RequestTransfer")
    fill(panel, qtbot, {"aggregate_id": "t-1", "source_account_number": "A",
                        "destination_account_number": "A", "amount": "5"})
    general = child(panel, QLabel, "commandFormError")
    qtbot.waitUntil(general.isVisible, timeout=3000)
    assert general.text() == "source and destination accounts must differ"
    fill(panel, qtbot, {"destination_account_number": "B"})
    qtbot.waitUntil(lambda: not general.isVisible(), timeout=3000)


def test_invalid_input_never_reaches_dispatch(
        panel: CommandPanel, qtbot: Any, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.select_command("DepositMoney")
    fill(panel, qtbot, {"aggregate_id": "acc-1", "amount": "10"})
    qtbot.waitUntil(child(panel, QPushButton, "dispatchButton").isEnabled, timeout=3000)
    before = sqlite_bank.store.event_count()
    amount = child(panel, QLineEdit, "field_amount")
    amount.clear()
    qtbot.keyClicks(amount, "-3")
    # Straight away, before the debounced validation ran: the shortcut and the slot
    # validate first.
    qtbot.keyClick(amount, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    panel.dispatch()
    assert not panel.is_busy()
    assert child(panel, QLabel, "error_amount").isVisible()
    assert sqlite_bank.store.event_count() == before


# -- preview and dispatch ------------------------------------------------------------------
def test_preview_shows_events_and_state_and_writes_nothing(
        panel: CommandPanel, qtbot: Any, sqlite_bank: Application) -> None:
    path = Path(sqlite_bank.store.target)
    before = file_hash(path)
    panel.set_application(sqlite_bank)
    panel.select_command("DepositMoney")
    fill(panel, qtbot, {"aggregate_id": "acc-1", "amount": "25"})
    preview = child(panel, QPushButton, "previewButton")
    qtbot.waitUntil(preview.isEnabled, timeout=3000)
    qtbot.mouseClick(preview, Qt.MouseButton.LeftButton)
    result = child(panel, QTextBrowser, "commandResult")
    qtbot.waitUntil(lambda: "nothing was recorded" in result.toPlainText(), timeout=5000)
    text = result.toPlainText()
    assert "MoneyDeposited" in text and '"balance": 125' in text
    assert file_hash(path) == before
    assert sqlite_bank.store.event_count() == 2


def test_dispatch_records_and_emits_the_events(
        panel: CommandPanel, qtbot: Any, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.select_command("DepositMoney")
    fill(panel, qtbot, {"aggregate_id": "acc-1", "amount": "25"})
    dispatch = child(panel, QPushButton, "dispatchButton")
    qtbot.waitUntil(dispatch.isEnabled, timeout=3000)
    with qtbot.waitSignal(panel.sig_dispatched, timeout=5000) as blocker:
        qtbot.mouseClick(dispatch, Qt.MouseButton.LeftButton)
    [event] = blocker.args[0]
    assert (event.event_type, event.data, event.position) == ("MoneyDeposited",
                                                              {"amount": 25}, 3)
    assert sqlite_bank.store.event_count() == 3
    assert "Recorded 1 event" in child(panel, QTextBrowser, "commandResult").toPlainText()


def test_ctrl_return_dispatches(panel: CommandPanel, qtbot: Any,
                                sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.select_command("DepositMoney")
    fill(panel, qtbot, {"aggregate_id": "acc-1", "amount": "7"})
    amount = child(panel, QLineEdit, "field_amount")
    amount.setFocus()
    with qtbot.waitSignal(panel.sig_dispatched, timeout=5000):
        qtbot.keyClick(amount, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sqlite_bank.store.event_count() == 3


def test_a_rejection_is_shown_in_plain_words(
        panel: CommandPanel, qtbot: Any, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.select_command("WithdrawMoney")
    fill(panel, qtbot, {"aggregate_id": "acc-1", "amount": "1000"})
    emitted: list[object] = []
    panel.sig_dispatched.connect(emitted.append)
    panel.dispatch()
    result = child(panel, QTextBrowser, "commandResult")
    qtbot.waitUntil(lambda: "Rejected" in result.toPlainText(), timeout=5000)
    assert "Not enough balance (balance 100 < 1000)" in result.toPlainText()
    assert "no_enough_balance" in result.toPlainText()
    assert emitted == [] and sqlite_bank.store.event_count() == 2


def test_rejection_words_come_from_the_domain() -> None:
    bank_words = bank_domain.rejection_messages
    assert describe_rejection("no_enough_balance", "", bank_words) == "Not enough balance"
    assert describe_rejection("no_enough_balance") == "No enough balance"  # no domain words
    assert describe_rejection("loan_limit_reached", "3 books") == "Loan limit reached (3 books)"
    assert describe_rejection("loan_limit_reached", "", library_domain.rejection_messages) == (
        "The member has reached the loan limit")
    assert describe_rejection("wrong_aggregate_type") == (  # the engine's own reason
        "That id belongs to a different kind of aggregate")


def test_a_conflict_is_explained(panel: CommandPanel, qtbot: Any,
                                 sqlite_bank: Application,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_bank, "dispatch", lambda command: Conflicted("acc-1", 10))
    panel.set_application(sqlite_bank)
    panel.select_command("DepositMoney")
    fill(panel, qtbot, {"aggregate_id": "acc-1", "amount": "1"})
    panel.dispatch()
    result = child(panel, QTextBrowser, "commandResult")
    qtbot.waitUntil(lambda: "Conflict" in result.toPlainText(), timeout=5000)
    assert "gave up after 10 attempts" in result.toPlainText()


def test_domain_code_errors_open_a_dialog_and_write_nothing(
        panel: CommandPanel, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[tuple[str, str, str]] = []
    monkeypatch.setattr(dialogs, "show_error",
                        lambda parent, title, message, details="": shown.append(
                            (title, message, details)))
    app = Application.open("memory:", test_domain, create=True)
    panel.set_application(app)
    panel.select_command("Explode")
    fill(panel, qtbot, {"aggregate_id": "x"})
    panel.dispatch()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    _title, message, details = shown[0]
    assert "ZeroDivisionError" in message and "Nothing was written" in message
    assert "Traceback" in details and "1 / 0" in details
    assert app.store.event_count() == 0
    assert "Failed" in child(panel, QTextBrowser, "commandResult").toPlainText()
    assert not panel.is_busy()


def test_read_only_can_preview_but_not_dispatch(
        panel: CommandPanel, qtbot: Any, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.set_read_only(True)
    panel.select_command("DepositMoney")
    fill(panel, qtbot, {"aggregate_id": "acc-1", "amount": "5"})
    preview = child(panel, QPushButton, "previewButton")
    qtbot.waitUntil(preview.isEnabled, timeout=3000)
    assert not child(panel, QPushButton, "dispatchButton").isEnabled()
    panel.dispatch()
    assert not panel.is_busy() and sqlite_bank.store.event_count() == 2
    panel.set_read_only(False)
    assert child(panel, QPushButton, "dispatchButton").isEnabled()


def test_commands_are_listed_public_first_then_internal(
        panel: CommandPanel, qtbot: Any) -> None:
    app = Application.open("memory:", library_domain, create=True)
    panel.set_application(app)
    combo = child(panel, QComboBox, "commandTypeCombo")
    public = library_domain.public_command_names
    assert panel.command_names() == public  # internal ones hidden until asked for
    show_all = child(panel, QCheckBox, "showAllCommands")
    assert show_all.isVisible() and not show_all.isChecked()
    panel.select_command("LendBook")
    show_all.setChecked(True)
    assert combo.currentData() == "LendBook"  # the choice survives the longer list
    names = [combo.itemData(i) for i in range(combo.count())]
    assert names[:len(public)] == public
    assert names[len(public)] is None  # the separator
    assert set(names[len(public) + 1:]) == {"HandOverToReserver", "CancelLoan",
                                             "RecordLoan", "RecordReturn"}
    panel.set_application(None)
    assert combo.count() == 0
    assert not child(panel, QPushButton, "previewButton").isEnabled()


def test_library_lend_from_the_form(panel: CommandPanel, qtbot: Any) -> None:
    app = Application.open("memory:", library_domain, create=True)
    app.dispatch_data("AddBook", {"aggregate_id": "B1", "title": "Dune", "author": "Herbert",
                                  "genre": "fiction"})
    panel.set_application(app)
    panel.select_command("LendBook")
    panel.set_aggregate_id("B1")
    qtbot.waitUntil(lambda: not panel.lookup_pending())  # read off the UI thread
    fill(panel, qtbot, {"member_id": "ann"})
    qtbot.mouseClick(child(panel, QPushButton, "generate_loan_id"), Qt.MouseButton.LeftButton)
    child(panel, QComboBox, "field_loan_days").setCurrentIndex(0)
    with qtbot.waitSignal(panel.sig_dispatched, timeout=5000) as blocker:
        panel.dispatch()
    event, *cascade = blocker.args[0]  # the lending saga's events follow the command's
    assert event.event_type == "BookLent" and event.data["loan_days"] == 7
    assert all(e.correlation_id == event.correlation_id for e in cascade)
