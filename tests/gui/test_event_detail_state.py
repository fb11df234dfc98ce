"""Event detail (JSON tree, copy, causation links) and the state at each version."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from incident_core import open_store
from incident_gui.widgets.json_tree import JsonTree
from incident_gui.widgets.state_view import CHANGED_ROLE
from tests.gui.conftest import show_event_id, timeline_read


def _events(target: str, aggregate_id: str):
    store = open_store(target, read_only=True)
    try:
        return store.read_stream(aggregate_id)
    finally:
        store.close()


def test_detail_shows_data_and_metadata_as_json(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    window.streams_panel.select_aggregate("acc-003")
    window.timeline_panel.select_version(2)
    timeline_read(qtbot, window)
    detail = window.event_detail
    assert detail.shown_event.event_type == "MoneyDeposited"
    tree = window.findChild(JsonTree, "eventJson")
    assert tree.item_for_path("data", "amount").text(1) == "300"
    assert tree.item_for_path("metadata", "command_type").text(1) == "DepositMoney"
    assert tree.item_for_path("data").isExpanded()
    assert window.findChild(QLabel, "positionLabel").text() == f"#{detail.shown_event.position}"
    assert not window.findChild(QLabel, "unknownTypeBadge").isVisible()
    window.findChild(QPushButton, "copyJsonButton").click()
    copied = json.loads(QApplication.clipboard().text())
    assert copied["event_id"] == detail.shown_event.event_id
    assert copied["data"] == {"amount": 300}


def test_causation_link_jumps_to_the_causing_event(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    stream = _events(bank_store, "t-001")
    requested, initiated = stream[0], stream[1]
    show_event_id(qtbot, window, initiated.event_id)
    link = window.findChild(QLabel, "causationLink")
    qtbot.waitUntil(lambda: f"event:{requested.event_id}" in link.text())  # read on a lane
    link.linkActivated.emit(f"event:{requested.event_id}")
    qtbot.waitUntil(lambda: window.event_detail.shown_event.event_id == requested.event_id)
    timeline_read(qtbot, window)
    assert window.timeline_panel.current_event().event_id == requested.event_id
    qtbot.waitUntil(lambda: window.global_log_panel.current_event() is not None)
    assert window.global_log_panel.current_event().position == requested.position

    # ... and the causing event lists what it caused: the saga's MoneySent and TransferInitiated
    qtbot.waitUntil(lambda: len(window.event_detail.related_items("caused")) == 2)
    caused = window.event_detail.related_items("caused")
    assert {item.text(0) for item in caused} == {"MoneySent", "TransferInitiated"}
    sent = next(item for item in caused if item.text(0) == "MoneySent")
    window.event_detail.related.itemClicked.emit(sent, 0)
    qtbot.waitUntil(lambda: window.event_detail.shown_event.event_type == "MoneySent")
    assert window.timeline_panel.model.aggregate_id == "acc-002"
    qtbot.waitUntil(lambda: len(window.event_detail.related_items("correlation")) >= 5)
    correlated = {item.text(1) for item in window.event_detail.related_items("correlation")}
    assert {"t-001", "acc-002", "acc-003"} <= correlated  # the whole transfer, both accounts


def test_a_command_caused_event_says_so(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    first = _events(bank_store, "acc-001")[0]
    show_event_id(qtbot, window, first.event_id)
    link = window.findChild(QLabel, "causationLink")
    qtbot.waitUntil(lambda: "a command, not an event" in link.text())  # read on a lane
    assert "OpenAccount" in window.findChild(QLabel, "commandLabel").text()


def test_aggregate_link_opens_its_timeline(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    show_event_id(qtbot, window, _events(bank_store, "t-002")[0].event_id)
    window.findChild(QLabel, "aggregateLink").linkActivated.emit("aggregate:acc-003")
    qtbot.waitUntil(lambda: window.timeline_panel.model.aggregate_id == "acc-003")
    assert window.streams_panel.selected_aggregate() == "acc-003"


def test_state_view_highlights_the_changed_fields(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    window.streams_panel.select_aggregate("acc-001")
    window.timeline_panel.select_version(3)  # WithdrawMoney 30 after a deposit of 100
    state = window.state_view
    qtbot.waitUntil(lambda: state.tree.topLevelItemCount() > 0)
    items = {state.tree.topLevelItem(i).text(0): state.tree.topLevelItem(i)
             for i in range(state.tree.topLevelItemCount())}
    assert items["balance"].text(1) == "70"
    assert items["balance"].text(2) == "100"
    assert items["balance"].data(0, CHANGED_ROLE) is True
    assert items["balance"].font(0).bold()
    assert items["account_number"].data(0, CHANGED_ROLE) is None
    assert state.changed_fields() == {("balance",)}

    window.timeline_panel.select_version(1)  # AccountOpened: from the initial state
    qtbot.waitUntil(lambda: ("account_number",) in state.changed_fields())
