"""Right-click menus on every table (copy, filter the log, open the stream) and exports of
what a table shows, off the UI thread, through the real window."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QTableView, QTabWidget

from incident_core import EventFilter
from incident_core.ports.sorting import SortKey
from incident_gui.presentation import file_dialogs
from tests.gui.conftest import timeline_read


def right_click(view: QTableView, row: int, column: int) -> QMenu:
    """Open the context menu on a cell, as a right click does; return it."""
    rect = view.visualRect(view.model().index(row, column))
    pos = rect.center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                              view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    menu = view.window().table_menus.last_menu
    assert menu is not None and menu.isVisible()
    return menu


def choose(menu: QMenu, text: str) -> None:
    texts = [a.text() for a in menu.actions()]
    matches = [a for a in menu.actions() if a.text().startswith(text)]
    assert matches, f"{text!r} not in {texts}"
    menu.close()
    matches[0].trigger()


def test_copy_cell_row_and_id_with_feedback(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    view = window.findChild(QTableView, "globalLogView")
    event = view.model().event_at(2)
    choose(right_click(view, 2, 3), "Copy cell")
    assert QApplication.clipboard().text() == event.event_type
    assert window.status.currentMessage() == f"Copied “{event.event_type}”"
    choose(right_click(view, 2, 0), "Copy row")
    assert QApplication.clipboard().text().split("\t")[:2] == [str(event.position),
                                                              event.aggregate_id]
    choose(right_click(view, 2, 0), "Copy event id")
    assert QApplication.clipboard().text() == event.event_id
    assert window.status.currentMessage() == f"Copied event id {event.event_id}"

    streams = window.findChild(QTableView, "streamList")
    info = streams.model().info_at(0)
    choose(right_click(streams, 0, 2), "Copy aggregate id")
    assert QApplication.clipboard().text() == info.aggregate_id


def test_filter_the_log_by_aggregate_type_and_correlation(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    log = window.global_log_panel.model
    timeline = window.findChild(QTableView, "timelineView")
    event = timeline.model().event_at(0)
    choose(right_click(timeline, 0, 1), "Filter the log by aggregate")
    assert log.event_filter == EventFilter(aggregate_id=event.aggregate_id)
    qtbot.waitUntil(lambda: log.rowCount() > 0 and not log.is_loading())
    assert {log.event_at(r).aggregate_id for r in range(log.rowCount())} == {event.aggregate_id}

    choose(right_click(window.global_log_panel.view, 0, 3), "Filter the log by type")
    assert log.event_filter == EventFilter(event_types=(event.event_type,))

    saga_event = next(e for e in window.session.app.store.read_events()
                      if e.event_type == "TransferCompleted")
    correlation = saga_event.metadata["correlation_id"]
    window.show_event(saga_event)
    timeline_read(qtbot, window)
    choose(right_click(timeline, timeline.currentIndex().row(), 1),
           "Filter the log by this correlation")
    assert log.event_filter == EventFilter(correlation_id=correlation)
    qtbot.waitUntil(lambda: log.rowCount() > 1 and not log.is_loading())
    rows = [log.event_at(r) for r in range(log.rowCount())]
    assert {e.metadata["correlation_id"] for e in rows} == {correlation}
    assert len({e.aggregate_id for e in rows}) > 1  # the command and what the saga did


def test_open_the_stream_and_a_projection_rows_events(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    log_view = window.global_log_panel.view
    event = log_view.model().event_at(5)
    choose(right_click(log_view, 5, 0), "Open the stream")
    assert window.timeline_panel.model.aggregate_id == event.aggregate_id
    assert window.event_detail.shown_event.event_id == event.event_id

    window.side_tabs.setCurrentWidget(window.projection_panel)
    view = window.findChild(QTableView, "projection_bank_accounts")
    qtbot.waitUntil(lambda: view.model().rowCount() > 0)
    key = view.model().row_key(1)
    choose(right_click(view, 1, 1), "Copy key")
    assert QApplication.clipboard().text() == key
    choose(right_click(view, 1, 1), "Show the events of")
    log = window.global_log_panel.model
    assert log.event_filter == EventFilter(aggregate_id=key)
    qtbot.waitUntil(lambda: log.rowCount() > 0 and not log.is_loading())
    assert all(log.event_at(r).aggregate_id == key for r in range(log.rowCount()))


def test_export_the_filtered_log_newest_first_to_csv_off_the_ui_thread(
        make_window, bank_store, qtbot, tmp_path, monkeypatch):
    window = make_window(bank_store)
    panel = window.global_log_panel
    panel.filters.set_event_type("MoneyDeposited")
    panel.newest_first.click()
    target = tmp_path / "deposits"
    monkeypatch.setattr(file_dialogs, "get_save_file_name",
                        lambda *args, **kwargs: (str(target), "CSV (*.csv)"))
    panel.sig_export_requested.emit("csv")  # the Export… button's CSV entry
    runner = window.table_menus.exports
    assert runner.is_running() or Path(f"{target}.csv").exists()
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=10_000)
    with open(f"{target}.csv", newline="") as fp:
        rows = list(csv.DictReader(fp))
    store = window.session.app.store
    expected = store.read_events_sorted(SortKey("position", True),
                                        filter=EventFilter(event_types=("MoneyDeposited",)))
    assert [int(r["position"]) for r in rows] == [e.position for e in expected]
    assert {r["event_type"] for r in rows} == {"MoneyDeposited"}
    assert window.status.currentMessage() == \
        f"Exported {len(expected):,} events to {target}.csv"


def test_export_a_stream_and_projection_rows(make_window, bank_store, qtbot, tmp_path):
    window = make_window(bank_store)
    runner = window.table_menus.exports
    path = tmp_path / "acc-001.ndjson"
    assert window.table_menus.export_stream("acc-001", path)
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=10_000)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["version"] for e in lines] == list(range(1, len(lines) + 1))
    assert {e["aggregate_id"] for e in lines} == {"acc-001"}

    window.side_tabs.setCurrentWidget(window.projection_panel)
    tabs = window.findChild(QTabWidget, "projectionTabs")
    tab = tabs.currentWidget()
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0)
    rows_path = tmp_path / "rows.csv"
    assert window.table_menus.export_projection(tab, rows_path)
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=10_000)
    with open(rows_path, newline="") as fp:
        rows = list(csv.DictReader(fp))
    assert len(rows) == tab.model.total
    assert window.status.currentMessage().startswith(f"Exported {len(rows):,} rows")


def test_menus_on_every_table_offer_their_entries(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    streams = [a.text() for a in right_click(window.streams_panel.view, 0, 0).actions()]
    assert {"Copy cell", "Copy row", "Copy aggregate id", "Open the stream",
            "Filter the log by this aggregate", "Export the stream as NDJSON…"} <= set(streams)
    log = [a.text() for a in right_click(window.global_log_panel.view, 0, 0).actions()]
    assert "Export the log as shown to CSV…" in log and "Copy as JSON" in log


def test_related_events_sort_by_a_header_and_have_a_menu(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    store = window.session.app.store
    done = next(e for e in store.read_events() if e.event_type == "TransferCompleted")
    window.show_event(done)
    detail = window.event_detail
    qtbot.waitUntil(lambda: len(detail.related_items("correlation")) >= 5)

    def positions() -> list[int]:
        return [int(item.text(2)[1:]) for item in detail.related_items("correlation")]

    assert positions() == sorted(positions())  # by position, as numbers
    header = detail.related.header()
    x = header.sectionViewportPosition(2) + header.sectionSize(2) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))
    assert positions() == sorted(positions(), reverse=True)

    item = detail.related_items("correlation")[0]
    rect = detail.related.visualItemRect(item)
    pos = rect.center()
    QApplication.sendEvent(detail.related.viewport(), QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, detail.related.viewport().mapToGlobal(pos)))
    menu = window.table_menus.last_menu
    choose(menu, "Filter the log by this correlation")
    assert window.global_log_panel.model.event_filter == EventFilter(
        correlation_id=done.metadata["correlation_id"])
