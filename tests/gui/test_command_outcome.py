"""A command's whole outcome in the real window: its events, the saga's cascade in the same
correlation as links, public commands only unless asked, fresh defaults per command type,
and the aggregate id from the selection, a new id or an existing stream."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QToolButton,
)

from incident_core import Application
from incident_core.examples.bank import domain as bank_domain
from incident_gui.tasks.workers import active_workers
from incident_gui.widgets.command_outcome import cascade_summary, plural
from incident_gui.widgets.command_panel import CommandPanel


@pytest.fixture(autouse=True)
def workers_done(qtbot: Any) -> Iterator[None]:
    yield
    qtbot.waitUntil(lambda: active_workers() == [], timeout=5000)


def child(widget: Any, kind: type, name: str) -> Any:
    found = widget.findChild(kind, name)
    assert found is not None, name
    return found


def commands_tab(window: Any) -> CommandPanel:
    panel = child(window, CommandPanel, "commandPanel")
    child(window, QTabWidget, "sideTabs").setCurrentWidget(panel)
    return panel


def type_into(qtbot: Any, panel: CommandPanel, name: str, text: str) -> None:
    edit = child(panel, QLineEdit, f"field_{name}")
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_a_transfer_shows_the_saga_cascade_with_links(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    panel = commands_tab(window)
    panel.select_command("RequestTransfer")
    type_into(qtbot, panel, "aggregate_id", "t-window")
    type_into(qtbot, panel, "source_account_number", "acc-005")
    type_into(qtbot, panel, "destination_account_number", "acc-006")
    type_into(qtbot, panel, "amount", "7")
    with qtbot.waitSignal(panel.sig_dispatched, timeout=10_000) as blocker:
        panel.dispatch()
    events = blocker.args[0]
    own, cascade = events[:1], events[1:]
    assert own[0].event_type == "TransferRequested"
    # Read back independently: the same correlation, as the store records it.
    app = Application.open(bank_store, bank_domain, read_only=True)
    try:
        stored = app.store.events_with_metadata("correlation_id", own[0].correlation_id)
    finally:
        app.close()
    assert [e.event_id for e in events] == [e.event_id for e in stored]
    assert len(cascade) >= 3 and "TransferCompleted" in {e.event_type for e in cascade}
    aggregates = {e.aggregate_id for e in cascade}
    result = child(panel, QTextBrowser, "commandResult")
    text = result.toPlainText()
    assert (f"Recorded 1 event; the transfer saga then recorded {len(cascade)} more on "
            f"{plural(len(aggregates), 'aggregate')}") in text
    links = result.toHtml().count("href=\"event:")
    assert links == len(events)
    # A link selects the event: detail pane, its stream.
    last = cascade[-1]
    result.anchorClicked.emit(QUrl(f"event:{last.event_id}"))
    qtbot.waitUntil(lambda: window.event_detail.shown_event is not None
                    and window.event_detail.shown_event.event_id == last.event_id,
                    timeout=5000)


def test_the_summary_counts_words() -> None:
    assert plural(1, "event") == "1 event" and plural(2, "event") == "2 events"
    assert cascade_summary(bank_domain, [], []) == "Recorded 0 events"


def test_a_rejection_uses_the_domains_words_and_detail(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    panel = commands_tab(window)
    panel.select_command("WithdrawMoney")
    type_into(qtbot, panel, "aggregate_id", "acc-001")
    type_into(qtbot, panel, "amount", "999999")
    panel.dispatch()
    result = child(panel, QTextBrowser, "commandResult")
    qtbot.waitUntil(lambda: "Rejected" in result.toPlainText(), timeout=5000)
    app = Application.open(bank_store, bank_domain, read_only=True)
    try:
        state = app.state("acc-001")
    finally:
        app.close()
    assert state is not None
    balance = state.state.model_dump()["balance"]
    assert (f"Rejected: Not enough balance (balance {balance} < 999999)"
            in result.toPlainText())


def test_only_public_commands_unless_asked(make_window: Callable[..., Any], bank_store: str,
                                           qtbot: Any) -> None:
    window = make_window(bank_store)
    panel = commands_tab(window)
    assert panel.command_names() == bank_domain.public_command_names
    child(panel, QCheckBox, "showAllCommands").setChecked(True)
    assert set(panel.command_names()) == set(bank_domain.command_types)
    child(panel, QCheckBox, "showAllCommands").setChecked(False)
    assert "SendMoney" not in panel.command_names()


def test_no_values_carry_over_between_command_types(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    panel = commands_tab(window)
    panel.select_command("DepositMoney")
    type_into(qtbot, panel, "aggregate_id", "acc-002")
    type_into(qtbot, panel, "amount", "40")
    panel.select_command("WithdrawMoney")
    assert child(panel, QLineEdit, "field_amount").text() == ""
    assert child(panel, QLineEdit, "field_aggregate_id").text() == ""
    panel.select_command("OpenAccount")
    assert child(panel, QLineEdit, "field_aggregate_id").text() == ""


def test_the_aggregate_id_from_selection_new_or_existing(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    panel = commands_tab(window)
    panel.select_command("DepositMoney")
    window.show_aggregate("acc-003")  # select a stream elsewhere
    aggregate_id = child(panel, QLineEdit, "field_aggregate_id")
    assert aggregate_id.text() == "acc-003"
    aggregate_id.clear()
    use = child(panel, QPushButton, "useSelectedStream")
    assert use.isEnabled() and "acc-003" in use.text()
    use.click()
    assert aggregate_id.text() == "acc-003"
    child(panel, QPushButton, "newAggregateId").click()
    assert str(uuid.UUID(aggregate_id.text())) == aggregate_id.text()
    window.show_aggregate("t-001")  # a transfer: not offered for an account command
    assert not use.isEnabled() and aggregate_id.text() != "t-001"
    picker = child(panel, QToolButton, "pickAggregateId")
    menu = picker.menu()
    menu.aboutToShow.emit()
    qtbot.waitUntil(lambda: "Reading" not in menu.actions()[0].text())  # read off-thread
    offered = [action.text() for action in menu.actions()]
    assert offered[:3] == ["acc-001", "acc-002", "acc-003"] and "t-001" not in offered
    menu.actions()[1].trigger()
    assert aggregate_id.text() == "acc-002"


def test_the_event_pane_clears_when_another_stream_is_chosen(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    app = Application.open(bank_store, bank_domain, read_only=True)
    try:
        event = app.store.read_stream("acc-001")[0]
    finally:
        app.close()
    window.show_event(event)
    assert window.event_detail.shown_event.event_id == event.event_id
    window.show_aggregate("acc-002")
    assert window.event_detail.shown_event is None


def test_preview_says_the_saga_will_react(make_window: Callable[..., Any], bank_store: str,
                                          qtbot: Any) -> None:
    window = make_window(bank_store)
    panel = commands_tab(window)
    panel.select_command("RequestTransfer")
    type_into(qtbot, panel, "aggregate_id", "t-preview")
    type_into(qtbot, panel, "source_account_number", "acc-005")
    type_into(qtbot, panel, "destination_account_number", "acc-006")
    type_into(qtbot, panel, "amount", "7")
    panel.preview()
    result = child(panel, QTextBrowser, "commandResult")
    qtbot.waitUntil(lambda: "nothing was recorded" in result.toPlainText(), timeout=5000)
    assert "Process managers will react: transfer saga" in result.toPlainText()
    assert child(panel, QComboBox, "commandTypeCombo").currentData() == "RequestTransfer"
