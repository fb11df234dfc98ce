"""The streams panel (lazy, filterable) and the timeline of the selected stream."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QTableView

from incident_gui.models.streams_model import PAGE_SIZE, pattern_matches
from tests.gui.conftest import timeline_read


def _stream_ids(view: QTableView) -> list[str]:
    model = view.model()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_pattern_matches_substring_and_glob():
    assert pattern_matches("acc-001", "CC-0")
    assert pattern_matches("acc-001", "acc-*1")
    assert pattern_matches("acc-001", "acc-00?")
    assert not pattern_matches("t-001", "acc-*")
    assert pattern_matches("anything", "")


def test_streams_load_lazily_page_by_page(make_window, many_accounts_store, qtbot):
    window = make_window(many_accounts_store)
    view = window.findChild(QTableView, "streamList")
    model = view.model()
    assert model.rowCount() == PAGE_SIZE
    assert model.canFetchMore(QModelIndex())
    view.setFocus()
    view.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_End)  # the view fetches more as the end comes in sight
    qtbot.waitUntil(lambda: model.rowCount() > PAGE_SIZE)
    while model.canFetchMore(QModelIndex()) or model.is_loading():  # read off the UI thread
        if model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        qtbot.wait(5)
    assert model.rowCount() == 1_200
    ids = _stream_ids(view)
    assert len(set(ids)) == 1_200
    # newest activity first: each stream's last event position, descending
    last = [model.info_at(row).last_position for row in range(model.rowCount())]
    assert last == sorted(last, reverse=True)
    assert "1,200 streams" in window.findChild(QLabel, "streamCount").text()


def test_streams_filter_by_substring_glob_and_type(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    view = window.findChild(QTableView, "streamList")
    box = window.findChild(QLineEdit, "streamFilter")
    qtbot.keyClicks(box, "savings")
    qtbot.waitUntil(lambda: sorted(_stream_ids(view)) == ["savings-1", "savings-2", "savings-3"])
    box.clear()
    qtbot.keyClicks(box, "t-00?")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sorted(_stream_ids(view)) == [f"t-00{n}" for n in range(1, 10)])
    assert window.findChild(QLabel, "streamCount").text() == "9 streams"
    box.clear()
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(_stream_ids(view)) == 37)
    types = window.findChild(QComboBox, "streamTypeCombo")
    assert [types.itemText(i) for i in range(types.count())] == ["All types", "Account",
                                                                "Transfer"]
    types.setCurrentIndex(2)
    qtbot.waitUntil(lambda: not view.model().is_loading())  # read off the UI thread
    ids = _stream_ids(view)
    assert ids and all(i.startswith("t-") for i in ids)


def test_ctrl_f_focuses_the_stream_filter(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    window.activateWindow()
    window.actions_.filter.trigger()
    assert window.focusWidget() is window.findChild(QLineEdit, "streamFilter")


def test_selecting_a_stream_fills_the_timeline(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    assert window.streams_panel.select_aggregate("t-missing")
    timeline = window.findChild(QTableView, "timelineView")
    model = timeline.model()
    rows = [(model.index(r, 0).data(), model.index(r, 1).data()) for r in range(model.rowCount())]
    assert rows == [("1", "TransferRequested"), ("2", "TransferInitiated"),
                    ("3", "TransferReverted"), ("4", "TransferCancelled")]
    assert "t-missing" in window.findChild(QLabel, "timelineTitle").text()
    summary = model.index(0, 3).data()
    assert "source_account_number=acc-004" in summary and "amount=5" in summary
    assert model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole).startswith("UTC: ")
    assert model.index(0, 1).data(Qt.ItemDataRole.DecorationRole) is not None


def test_timeline_keyboard_navigation_updates_detail(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    window.streams_panel.select_aggregate("acc-004")
    timeline_read(qtbot, window)
    timeline = window.findChild(QTableView, "timelineView")
    timeline.setFocus()
    qtbot.keyClick(timeline, Qt.Key.Key_Home)
    timeline_read(qtbot, window)
    assert window.event_detail.shown_event.version == 1
    qtbot.keyClick(timeline, Qt.Key.Key_Down)
    qtbot.keyClick(timeline, Qt.Key.Key_Down)
    assert window.event_detail.shown_event.version == 3
    qtbot.keyClick(timeline, Qt.Key.Key_End)
    assert window.event_detail.shown_event.version == timeline.model().rowCount()


def test_opening_shows_the_first_stream_and_its_latest_event(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    store = window.session.app.store
    newest = store.read_events(descending=True, limit=1)[0].aggregate_id
    assert window.streams_panel.selected_aggregate() == newest  # last activity on top
    latest = window.timeline_panel.current_event()
    assert latest.aggregate_id == newest
    assert latest.version == window.timeline_panel.model.total
    assert window.event_detail.shown_event.event_id == latest.event_id
    qtbot.waitUntil(lambda: window.state_view.tree.topLevelItemCount() > 0)


def test_a_long_timeline_pages_by_version(make_window, bank_store, qtbot):
    from incident_core import Application
    from incident_core.examples.bank import domain as bank_domain
    from incident_gui.models.timeline_model import PAGE_SIZE as TIMELINE_PAGE
    from tests.gui.conftest import envelope

    with Application.open(bank_store, bank_domain) as app:
        app.import_events([envelope("big", 1, "AccountOpened", {"account_number": "big"})]
                          + [envelope("big", v, "MoneyDeposited", {"amount": v})
                             for v in range(2, 3_001)])
    window = make_window(bank_store)
    window.show_aggregate("big", version=2_345)
    timeline_read(qtbot, window)
    model = window.timeline_panel.model
    assert model.rowCount() == 3_000
    assert window.timeline_panel.current_event().data == {"amount": 2_345}
    assert 2_344 // TIMELINE_PAGE in model.cached_pages()
    assert 0 not in model.cached_pages()  # the early pages were never read
    view = window.findChild(QTableView, "timelineView")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert window.event_detail.shown_event.version == 3_000
    qtbot.waitUntil(lambda: window.state_view.tree.topLevelItemCount() > 0, timeout=10_000)
    assert ("balance",) in window.state_view.changed_fields()


def test_a_filtered_stream_list_pages_off_the_ui_thread(make_window, many_accounts_store, qtbot):
    window = make_window(many_accounts_store)
    model = window.streams_panel.model
    box = window.findChild(QLineEdit, "streamFilter")
    qtbot.keyClicks(box, "bulk-00*")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert model.is_loading() or model.rowCount() == PAGE_SIZE
    qtbot.waitUntil(lambda: not model.is_loading() and model.rowCount() == PAGE_SIZE)
    qtbot.waitUntil(lambda: model.counted)  # the count is read once the page is shown
    assert model.total == 1_000
    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: model.rowCount() == 1_000)
    assert not model.canFetchMore(QModelIndex())


def test_showing_a_stream_the_list_does_not_hold_clears_its_selection(make_window, bank_store,
                                                                      qtbot):
    window = make_window(bank_store)
    box = window.findChild(QLineEdit, "streamFilter")
    qtbot.keyClicks(box, "t-*")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.streams_panel.model.rowCount() == 22)
    window.streams_panel.select_row(0)
    window.show_aggregate("acc-002")  # filtered out of the list
    assert window.timeline_panel.model.aggregate_id == "acc-002"
    assert window.streams_panel.selected_aggregate() is None
