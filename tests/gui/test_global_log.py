"""The global log: lazy pages by position, jump to the end, filters (keyset paging)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QLineEdit, QTableView

from incident_core import EventFilter, open_store
from incident_gui.models.global_log_model import PAGE_SIZE


def _log(window) -> QTableView:
    return window.findChild(QTableView, "globalLogView")


def _column(view: QTableView, column: int) -> list[str]:
    model = view.model()
    return [model.index(row, column).data() for row in range(model.rowCount())]


def test_rows_are_positions_and_only_seen_pages_load(make_window, many_accounts_store):
    window = make_window(many_accounts_store)
    model = _log(window).model()
    assert model.rowCount() == 2_400  # rows are known from the head, events are not loaded
    assert model.indexed
    assert model.cached_pages() == [0]
    first = model.event_at(0)
    assert (first.position, first.event_type) == (1, "AccountOpened")
    assert model.index(0, 0).data() == "1"


def test_end_key_jumps_to_the_head(make_window, many_accounts_store, qtbot):
    window = make_window(many_accounts_store)
    view = _log(window)
    model = view.model()
    view.setFocus()
    view.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_End)
    last = model.rowCount() - 1
    qtbot.waitUntil(lambda: model.event_at(last) is not None)
    assert model.event_at(last).position == 2_400
    assert view.currentIndex().row() == last
    assert set(model.cached_pages()) == {0, last // PAGE_SIZE}  # nothing in between
    qtbot.waitUntil(lambda: window.event_detail.shown_event is not None
                    and window.event_detail.shown_event.position == 2_400)


def test_filters_by_type_aggregate_and_text(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    view = _log(window)
    model = view.model()
    filters = window.global_log_panel.filters
    qtbot.waitUntil(lambda: "TransferCancelled" in filters.types.offered())  # read off-thread
    filters.types.set_selected(["TransferCompleted", "TransferCancelled"])
    qtbot.waitUntil(lambda: not model.indexed and not model.is_loading())
    types = set(_column(view, 3))
    assert types == {"TransferCompleted", "TransferCancelled"}
    positions = [int(p) for p in _column(view, 0)]
    assert positions == sorted(positions)
    assert filters.types.text() == "2 event types"

    filters.types.clear()
    aggregate = window.findChild(QLineEdit, "aggregateFilter")
    qtbot.keyClicks(aggregate, "acc-004")
    qtbot.waitUntil(lambda: not model.indexed and not model.is_loading()
                    and model.rowCount() > 0)
    assert set(_column(view, 1)) == {"acc-004"}
    assert _column(view, 2) == [str(v) for v in range(1, model.rowCount() + 1)]

    aggregate.clear()
    text = window.findChild(QLineEdit, "textFilter")
    qtbot.keyClicks(text, "t-missing")
    qtbot.keyClick(text, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not model.is_loading() and model.rowCount() > 0)
    assert set(_column(view, 1)) == {"acc-004"}  # MoneySent / MoneySentReverted name it
    assert all("t-missing" in s for s in _column(view, 5))

    filters.clear()
    qtbot.waitUntil(lambda: model.indexed and model.event_at(0) is not None)


def test_filtered_log_pages_by_keyset(make_window, many_accounts_store, qtbot):
    window = make_window(many_accounts_store)
    model = _log(window).model()
    types = window.global_log_panel.filters.types
    qtbot.waitUntil(lambda: types.offered() == ["AccountOpened", "MoneyDeposited"])
    types.set_selected(["MoneyDeposited"])
    qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE and not model.is_loading())
    assert model.canFetchMore(QModelIndex())
    while model.canFetchMore(QModelIndex()) or model.is_loading():
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not model.is_loading())
    assert model.rowCount() == 1_200
    assert model.event_at(1_199).position == 2_400


def test_time_range_filter(make_window, bank_store, qtbot):
    from PySide6.QtCore import QDateTime

    window = make_window(bank_store)
    model = _log(window).model()
    filters = window.global_log_panel.filters
    store = open_store(bank_store, read_only=True)
    try:
        events = store.read_events()
    finally:
        store.close()
    filters.until_edit.setDateTime(QDateTime.fromSecsSinceEpoch(0))  # 1970: nothing before
    filters.until_check.setChecked(True)
    qtbot.waitUntil(lambda: not model.indexed and not model.is_loading())
    assert model.rowCount() == 0
    assert filters.current_filter().until.startswith("1970-01-01T")
    filters.until_check.setChecked(False)
    filters.since_edit.setDateTime(QDateTime.fromSecsSinceEpoch(0))
    filters.since_check.setChecked(True)
    qtbot.waitUntil(lambda: not model.is_loading() and model.rowCount() == len(events))


def test_filter_object_round_trip(make_window, bank_store):
    window = make_window(bank_store)
    assert window.global_log_panel.filters.current_filter() == EventFilter()


def test_clicking_an_activity_bar_filters_the_log_to_its_time(make_window, bank_store, qtbot):
    from datetime import datetime

    window = make_window(bank_store)
    chart = window.store_activity.chart
    qtbot.waitUntil(lambda: chart.bucket_count() > 0)
    model = _log(window).model()
    store = open_store(bank_store, read_only=True)
    try:
        times = [datetime.fromisoformat(e.recorded_at_text) for e in store.read_events()]
    finally:
        store.close()
    filters = window.global_log_panel.filters
    spans = [chart.bucket_span(i) for i in range(chart.bucket_count())]
    start, end = max(spans[:-1], key=lambda s: sum(s[0] <= t < s[1] for t in times))
    chart.sig_bucket_clicked.emit(start.isoformat(), end.isoformat())
    assert filters.since_check.isChecked() and filters.until_check.isChecked()
    qtbot.waitUntil(lambda: not model.indexed and not model.is_loading())
    assert model.rowCount() == sum(start <= t < end for t in times) > 0

    newest, newest_end = spans[-1]  # the newest bar holds the newest event: open-ended
    chart.sig_bucket_clicked.emit(newest.isoformat(), newest_end.isoformat())
    assert filters.since_check.isChecked() and not filters.until_check.isChecked()
    assert filters.current_filter().until is None
    qtbot.waitUntil(lambda: not model.is_loading()
                    and model.rowCount() == sum(newest <= t for t in times))


def test_the_first_page_comes_with_the_open(make_window, many_accounts_store):
    """The opener reads the log's first page with the head (off the UI thread): the log
    shows it as the store is installed, without a read of its own."""
    window = make_window(many_accounts_store, wait=False)  # the open has just ended
    model = window.global_log_panel.model
    assert not model.is_loading() and model.cached_pages() == [0]
    stored = window.session.app.store.read_events(after_position=0, limit=PAGE_SIZE)
    shown = [model.event_at(row) for row in range(PAGE_SIZE)]
    assert [(e.position, e.event_id) for e in shown] == \
        [(e.position, e.event_id) for e in stored]
    assert model.event_at(PAGE_SIZE) is None  # the next page is read when it is seen
