"""Sorting by a header click (done by the store, keyset pages), newest first, Tab."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QHeaderView, QTableView, QToolButton

from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.ports.sorting import SortKey
from tests.gui.conftest import timeline_read


def click_header(qtbot, view: QTableView, section: int) -> None:
    header: QHeaderView = view.horizontalHeader()
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))


def load_all(qtbot, model) -> None:
    while model.canFetchMore(QModelIndex()) or model.is_loading():
        if model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        qtbot.wait(5)


def test_a_log_header_click_sorts_by_that_column_page_after_page(
        make_window, many_accounts_store, qtbot):
    window = make_window(many_accounts_store)
    view = window.findChild(QTableView, "globalLogView")
    model = view.model()
    click_header(qtbot, view, 3)  # Event type
    assert model.sort_key == SortKey("event_type")
    assert not model.indexed
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    assert model.rowCount() < 2_400  # one page, not the whole log
    load_all(qtbot, model)
    rows = [model.event_at(r) for r in range(model.rowCount())]
    assert len(rows) == 2_400
    assert [(e.event_type, e.position) for e in rows] == sorted(
        (e.event_type, e.position) for e in rows)
    assert model.index(0, 3).data() == "AccountOpened"
    assert view.horizontalHeader().sortIndicatorSection() == 3

    click_header(qtbot, view, 3)  # again: descending
    assert model.sort_key == SortKey("event_type", descending=True)
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    assert model.index(0, 3).data() == "MoneyDeposited"
    assert model.event_at(0).position == 2_400  # the tiebreak runs the same way


def test_the_data_column_does_not_sort(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    view = window.findChild(QTableView, "globalLogView")
    click_header(qtbot, view, 5)
    assert view.model().sort_key == SortKey("position")
    assert view.horizontalHeader().sortIndicatorSection() == 0


def test_newest_first_shows_the_head_on_top_and_live_events_arrive_there(
        make_window, bank_store, qtbot):
    window = make_window(bank_store)
    model = window.global_log_panel.model
    head = window.session.app.store.head()
    window.findChild(QToolButton, "newestFirstButton").click()
    assert model.sort_key == SortKey("position", descending=True)
    qtbot.waitUntil(lambda: model.event_at(0) is not None)
    assert model.event_at(0).position == head
    assert window.global_log_panel.view.horizontalHeader().sortIndicatorOrder() == \
        Qt.SortOrder.DescendingOrder

    window.session.app.dispatch(DepositMoney(aggregate_id="acc-001", amount=5))
    qtbot.waitUntil(lambda: model.event_at(0).position == head + 1, timeout=3000)
    assert model.event_at(1).position == head
    assert model.event_at(0).data == {"amount": 5}


def test_a_streams_header_click_sorts_and_live_changes_keep_the_order(
        make_window, many_accounts_store, qtbot):
    window = make_window(many_accounts_store)
    view = window.findChild(QTableView, "streamList")
    model = view.model()
    click_header(qtbot, view, 0)  # Aggregate, ascending
    assert model.sort_key == SortKey("aggregate_id")
    qtbot.waitUntil(lambda: not model.is_loading())  # the list reads off the UI thread
    assert model.info_at(0).aggregate_id == "bulk-00000"
    click_header(qtbot, view, 0)
    qtbot.waitUntil(lambda: not model.is_loading())
    assert model.info_at(0).aggregate_id == "bulk-01199"
    load_all(qtbot, model)
    ids = [model.info_at(r).aggregate_id for r in range(model.rowCount())]
    assert ids == sorted(ids, reverse=True) and len(ids) == 1_200

    window.session.app.dispatch(OpenAccount(aggregate_id="bulk-00600x"))
    qtbot.waitUntil(lambda: model.row_of("bulk-00600x") is not None, timeout=3000)
    assert model.row_of("bulk-00600x") == model.row_of("bulk-00600") - 1  # id order, desc


def test_tab_leaves_a_table_without_changing_the_selection(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    view = window.findChild(QTableView, "streamList")
    selected = window.streams_panel.selected_aggregate()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert not view.hasFocus()
    assert window.streams_panel.selected_aggregate() == selected


def test_an_unindexed_streams_order_is_read_off_the_ui_thread(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    view = window.findChild(QTableView, "streamList")
    model = view.model()
    click_header(qtbot, view, 3)  # Events: sorting every stream has no index
    assert model.sort_key == SortKey("event_count")
    assert model.is_loading() and model.rowCount() == 0  # the click returned at once
    qtbot.waitUntil(lambda: not model.is_loading() and model.rowCount() > 0)
    counts = [(model.info_at(r).event_count, model.info_at(r).aggregate_id)
              for r in range(model.rowCount())]
    assert counts == sorted(counts) and len(counts) == model.total == 37


def test_the_timeline_runs_newest_first_and_live_versions_arrive_on_top(
        make_window, bank_store, qtbot):
    window = make_window(bank_store)
    window.show_aggregate("acc-001")
    timeline_read(qtbot, window)
    timeline = window.findChild(QTableView, "timelineView")
    model = timeline.model()
    total = model.total
    window.timeline_panel.select_version(2)
    click_header(qtbot, timeline, 0)  # Version: newest first
    assert model.descending
    timeline_read(qtbot, window)
    assert model.index(0, 0).data() == str(total)
    assert model.event_at(total - 1).version == 1
    assert window.timeline_panel.current_event().version == 2  # still selected
    click_header(qtbot, timeline, 1)  # the event type does not sort
    assert model.descending and timeline.horizontalHeader().sortIndicatorSection() == 0

    window.session.app.dispatch(DepositMoney(aggregate_id="acc-001", amount=3))
    qtbot.waitUntil(lambda: model.total == total + 1, timeout=3000)
    assert model.event_at(0).version == total + 1 and model.event_at(0).data == {"amount": 3}
    assert window.timeline_panel.current_event().version == 2


def test_numbers_never_elide_when_values_grow_live(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    window.side_tabs.setCurrentWidget(window.projection_panel)
    view = window.findChild(QTableView, "projection_bank_accounts")
    model = view.model()
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    column = [model.headerData(c, Qt.Orientation.Horizontal)
              for c in range(model.columnCount())].index("balance")
    row = next(r for r in range(model.rowCount()) if model.row(r)["aggregate_id"] == "acc-001")
    before = view.columnWidth(column)

    window.session.app.dispatch(DepositMoney(aggregate_id="acc-001", amount=10**15))
    qtbot.waitUntil(lambda: int(model.index(row, column).data()) > 10**15, timeout=5000)
    text = model.index(row, column).data()
    assert view.columnWidth(column) > before
    assert view.columnWidth(column) >= view.fontMetrics().horizontalAdvance(text) + 8

    streams = window.findChild(QTableView, "streamList")
    info = window.streams_panel.model.info_at(0)
    window.streams_panel.model.apply_changes([replace(info, event_count=1_234_567_890)], set())
    assert streams.model().index(0, 3).data() == "1234567890"
    assert streams.columnWidth(3) >= streams.fontMetrics().horizontalAdvance("1234567890") + 8
