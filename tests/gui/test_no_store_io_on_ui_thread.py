"""No store I/O on the UI thread: the real window on real SQLite stores, driven through
the usual flows, while every SQL statement of every connection records the thread it ran
on (`tests.gui.sql_threads`). Not one may run on the main thread."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QPushButton

from incident_core import Application, RecordedEvent, open_store
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.operations.demo import demo
from incident_gui.main import create_window
from incident_gui.tasks.workers import active_workers
from tests.gui.conftest import show_event_id, timeline_read
from tests.gui.sql_threads import CLOSE, SqlThreads

SHIPPING = "incident_core.examples.shipping:domain"


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> SqlThreads:
    return SqlThreads().install(monkeypatch)


def settle(qtbot: Any, window: Any) -> None:
    """Wait until the window has read what it shows."""
    qtbot.waitUntil(lambda: not window.opening and active_workers() == [], timeout=20_000)
    timeline_read(qtbot, window)
    qtbot.waitUntil(lambda: not window.streams_panel.model.is_loading(), timeout=10_000)
    qtbot.wait(50)


def opened(qtbot: Any, target: str, **kwargs: Any) -> Any:
    window = create_window(target, **kwargs)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window)
    assert window.session is not None
    return window


def events_of(target: str, aggregate_id: str) -> list[RecordedEvent]:
    store = open_store(target, read_only=True)
    try:
        return store.read_stream(aggregate_id)
    finally:
        store.close()


def menu_texts(menu: QMenu) -> list[str]:
    return [action.text() for action in menu.actions()]


def pick_existing(qtbot: Any, window: Any) -> list[str]:
    panel = window.command_panel
    panel.select_command("DepositMoney")
    menu = panel.findChild(QMenu, "existingStreamsMenu")
    menu.aboutToShow.emit()
    qtbot.waitUntil(lambda: "acc-001" in menu_texts(menu), timeout=5000)
    return menu_texts(menu)


def type_an_id_and_dispatch(qtbot: Any, window: Any) -> None:
    panel = window.command_panel
    panel.select_command("DepositMoney")
    panel.set_aggregate_id("acc-005")  # as a typed link does: its type is unknown here
    qtbot.waitUntil(lambda: panel.form.values().get("aggregate_id") == "acc-005", timeout=5000)
    panel.form.set_field_value("amount", 25)
    with qtbot.waitSignal(panel.sig_dispatched, timeout=10_000):
        panel.dispatch()


def related_menu(qtbot: Any, window: Any, done: RecordedEvent) -> QMenu:
    window.show_event(done)
    detail = window.event_detail
    qtbot.waitUntil(lambda: len(detail.related_items("correlation")) >= 2, timeout=5000)
    item = detail.related_items("correlation")[0]
    pos = detail.related.visualItemRect(item).center()
    viewport = detail.related.viewport()
    before = window.table_menus.last_menu
    QApplication.sendEvent(viewport, QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos)))
    qtbot.waitUntil(lambda: window.table_menus.last_menu is not before, timeout=5000)
    menu = window.table_menus.last_menu
    menu.close()
    return menu


def conversation(qtbot: Any, window: Any, event_id: str) -> Any:
    show_event_id(qtbot, window, event_id)
    button = window.event_detail.findChild(QPushButton, "showConversationButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    graph = window.sagas.graph
    qtbot.waitUntil(lambda: graph.isVisible() and graph.view.conversation is not None,
                    timeout=10_000)
    graph.close()
    return graph


def time_travel(qtbot: Any, window: Any, position: int) -> None:
    travel = window.time_travel
    travel.control.spin.setValue(position)
    qtbot.mouseClick(travel.control.go, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    qtbot.mouseClick(travel.control.now, Qt.MouseButton.LeftButton)
    settle(qtbot, window)


def diff_positions(qtbot: Any, window: Any, first: int) -> None:
    diff = window.time_travel.diff
    window.time_travel.show_tab()
    window.time_travel.tabs.setCurrentWidget(diff)
    diff.projection.setCurrentText("bank_accounts")
    diff.first.setValue(first)
    with qtbot.waitSignal(diff.sig_done, timeout=10_000):
        qtbot.mouseClick(diff.compare, Qt.MouseButton.LeftButton)


def sort_streams(qtbot: Any, window: Any) -> None:
    header = window.streams_panel.view.horizontalHeader()
    for column in (0, 1, 2, 4):
        header.setSortIndicator(column, Qt.SortOrder.AscendingOrder)
        settle(qtbot, window)
        assert window.streams_panel.model.rowCount() > 0


def tabs_filters_and_refresh(qtbot: Any, window: Any) -> None:
    """Every side tab, the time-travel tabs, the streams' filters, and F5."""
    for index in range(window.side_tabs.count()):
        window.side_tabs.setCurrentIndex(index)
        settle(qtbot, window)
    travel = window.time_travel
    travel.show_tab()
    for index in range(travel.tabs.count()):
        travel.tabs.setCurrentIndex(index)
        settle(qtbot, window)
    panel = window.streams_panel
    panel.filter_edit.setText(panel.model.info_at(0).aggregate_id[:3] + "*")
    panel.filter_edit.returnPressed.emit()
    settle(qtbot, window)
    assert panel.model.rowCount() > 0
    panel.type_combo.setCurrentIndex(1)
    settle(qtbot, window)
    panel.filter_edit.clear()
    panel.type_combo.setCurrentIndex(0)
    settle(qtbot, window)
    window.actions_.refresh.trigger()
    settle(qtbot, window)
    window.side_tabs.setCurrentIndex(0)


def another_process_writes(qtbot: Any, guard: SqlThreads, window: Any, target: str) -> None:
    """Commands recorded by another writer reach the window through the live watcher."""
    head = window.updates.head
    with guard.test_reads(), Application.open(target, bank_domain) as other:
        other.dispatch(OpenAccount(aggregate_id="acc-elsewhere"))
        other.dispatch(DepositMoney(aggregate_id="acc-elsewhere", amount=3))
    qtbot.waitUntil(lambda: window.updates.head == head + 2, timeout=10_000)
    qtbot.waitUntil(lambda: window.streams_panel.model.row_of("acc-elsewhere") is not None,
                    timeout=5000)
    settle(qtbot, window)


def branch_and_discard(qtbot: Any, window: Any, original: str) -> None:
    controller = window.sagas.branches
    with qtbot.waitSignal(controller.sig_branched, timeout=20_000):
        controller.actions["actionBranch"].trigger()
    settle(qtbot, window)
    controller.actions["actionDiscard"].trigger()
    qtbot.waitUntil(lambda: window.session is not None and window.session.target == original
                    and controller.current is None, timeout=20_000)
    settle(qtbot, window)


def test_the_usual_flows_run_no_sql_on_the_ui_thread(
        qtbot: Any, guard: SqlThreads, bank_store: str, tmp_path: Path) -> None:
    with guard.test_reads():
        transfer = events_of(bank_store, "t-001")
    window = opened(qtbot, bank_store)
    window.streams_panel.select_row(3)
    assert window.streams_panel.select_aggregate("acc-003")
    settle(qtbot, window)
    assert len(pick_existing(qtbot, window)) > 10
    type_an_id_and_dispatch(qtbot, window)
    menu = related_menu(qtbot, window, transfer[-1])
    assert "Copy row" in menu_texts(menu)
    conversation(qtbot, window, transfer[0].event_id)
    time_travel(qtbot, window, 20)
    diff_positions(qtbot, window, 10)
    sort_streams(qtbot, window)
    tabs_filters_and_refresh(qtbot, window)
    another_process_writes(qtbot, guard, window, bank_store)
    show_event_id(qtbot, window, transfer[1].event_id)
    branch_and_discard(qtbot, window, bank_store)
    other = tmp_path / "other.sqlite3"
    shutil.copyfile(bank_store, other)
    assert window.open_target(str(other))
    settle(qtbot, window)
    assert window.open_target(bank_store)
    settle(qtbot, window)
    window.close()
    assert guard.off_main_thread()  # the guard sees the store's statements
    assert guard.on_main_thread() == [], guard.report()


def test_the_shipping_domain_runs_no_sql_on_the_ui_thread(
        qtbot: Any, guard: SqlThreads, tmp_path: Path) -> None:
    target = str(tmp_path / "shipping.sqlite3")
    with guard.test_reads(), Application.open(target, shipping_domain, create=True) as app:
        for _progress in demo(app, accounts=20, transfers=60):
            pass
    window = opened(qtbot, target, domain=SHIPPING)
    window.streams_panel.select_row(0)
    settle(qtbot, window)
    time_travel(qtbot, window, 5)
    sort_streams(qtbot, window)
    tabs_filters_and_refresh(qtbot, window)
    window.close()
    assert guard.off_main_thread()
    assert guard.on_main_thread() == [], guard.report()



def test_the_guard_sees_statements_and_closes_on_the_ui_thread(
        guard: SqlThreads, bank_store: str) -> None:
    """The guard itself: a read made here, on the main thread, is caught with its caller."""
    store = open_store(bank_store, read_only=True)
    assert store.head() > 0
    store.close()
    found = guard.on_main_thread()
    assert any("incident_events" in s.sql for s in found)
    assert any(s.sql == CLOSE for s in found)
    assert "test_no_store_io_on_ui_thread" not in guard.report()  # our code is named
    assert "log_reads.py" in guard.report() and "head" in guard.report()
