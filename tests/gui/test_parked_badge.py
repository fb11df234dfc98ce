"""The parked-saga badge in the real window: hidden at 0, counts parked steps after our own
commit and after a live change from another writer, opens the Sagas tab's parked list, and
hides again once the steps are skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget, QToolButton

from incident_core import Application
from incident_core.examples.bank import RequestTransfer
from incident_core.examples.bank import domain as bank_domain
from incident_gui.widgets.command_panel import CommandPanel
from incident_gui.widgets.process_managers_panel import PARKED_ROLE
from tests.gui.test_command_outcome import child, type_into

LONG = "B" * 201  # a destination the transfer saga's SendMoney fails on: the step parks


def test_the_badge_counts_parked_steps_and_opens_the_parked_list(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    badge = child(window.status, QToolButton, "parkedBadge")
    assert badge.isHidden()
    # our own commit
    panel = child(window, CommandPanel, "commandPanel")
    child(window, QTabWidget, "sideTabs").setCurrentWidget(panel)
    panel.select_command("RequestTransfer")
    for name, text in (("aggregate_id", "t-park-1"), ("source_account_number", "acc-005"),
                       ("destination_account_number", LONG), ("amount", "3")):
        type_into(qtbot, panel, name, text)
    with qtbot.waitSignal(panel.sig_dispatched, timeout=10_000):
        panel.dispatch()
    qtbot.waitUntil(badge.isVisible, timeout=5000)
    assert badge.text() == "⚠ 1 parked saga step"
    # a live change recorded by another writer
    other = Application.open(bank_store, bank_domain)
    try:
        assert other.dispatch(RequestTransfer(
            aggregate_id="t-park-2", source_account_number="acc-006",
            destination_account_number=LONG, amount=2)).ok
    finally:
        other.close()
    qtbot.waitUntil(lambda: badge.text() == "⚠ 2 parked saga steps", timeout=10_000)
    # the click opens the Sagas tab with a parked step selected
    qtbot.mouseClick(badge, Qt.MouseButton.LeftButton)
    tabs = child(window, QTabWidget, "sideTabs")
    assert tabs.currentWidget() is window.sagas.panel
    tree = window.sagas.panel.tree
    qtbot.waitUntil(lambda: tree.currentItem() is not None
                    and tree.currentItem().data(0, PARKED_ROLE) is not None, timeout=10_000)
    manager, position = tree.currentItem().data(0, PARKED_ROLE)
    assert (manager, position) in {(s.process_manager, s.position)
                                   for s in window.session.app.parked_steps()}
    # skipping both from the panel hides the badge
    for step in window.session.app.parked_steps():
        window.sagas.panel.skip(step.process_manager, step.position, "test: bad account")
        qtbot.waitUntil(lambda: window.sagas.panel._worker is None
                        or not window.sagas.panel._worker.is_running(), timeout=10_000)
    qtbot.waitUntil(badge.isHidden, timeout=10_000)
    assert window.sagas.parked_badge is not None and window.sagas.parked_badge.count == 0
