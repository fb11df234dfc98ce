"""Each read moved off the UI thread, one by one: the widget shows that it is reading (or
keeps what it showed), the answer arrives and is shown, and an answer overtaken by a
newer request or another store is never shown. A read's answer is delivered by the UI
event loop, so nothing can arrive between two calls made without running it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QLineEdit, QMenu, QPushButton

from incident_core import Application, open_store
from incident_core.examples.bank import domain as bank_domain
from incident_core.ports.sorting import SortKey
from incident_gui.models.streams_model import PAGE_SIZE, StreamsModel, read_first_streams
from incident_gui.session.store_session import open_session
from incident_gui.tasks.query_lane import QueryLane
from incident_gui.widgets.aggregate_id_picker import READING, AggregateIdPicker
from incident_gui.widgets.command_panel import CommandPanel
from incident_gui.widgets.conversation_window import ConversationWindow
from incident_gui.widgets.streams_panel import StreamsPanel
from incident_gui.window.store_closer import StoreCloser


@pytest.fixture
def lane() -> Iterator[QueryLane]:
    lane = QueryLane("testReads")
    yield lane
    lane.stop()


@pytest.fixture
def bank(bank_store: str) -> Iterator[Application]:
    app = Application.open(bank_store, bank_domain, read_only=True)
    yield app
    app.close()


def texts(menu: QMenu) -> list[str]:
    return [action.text() for action in menu.actions()]


def test_the_picker_menu_reads_the_streams_off_the_ui_thread(
        qtbot: Any, lane: QueryLane, bank: Application) -> None:
    picker = AggregateIdPicker(lane=lane)
    qtbot.addWidget(picker)
    picker.set_target(bank, "Account")
    picker.fill_menu()
    assert texts(picker.menu) == [READING]  # until the answer arrives
    accounts = [info.aggregate_id for info in bank.store.streams(aggregate_type="Account")]
    qtbot.waitUntil(lambda: texts(picker.menu) != [READING], timeout=5000)
    assert texts(picker.menu) == accounts
    with qtbot.waitSignal(picker.sig_chosen) as chosen:
        picker.menu.actions()[2].trigger()
    assert chosen.args == [accounts[2]]


def test_a_picker_read_for_another_type_is_never_shown(
        qtbot: Any, lane: QueryLane, bank: Application) -> None:
    picker = AggregateIdPicker(lane=lane)
    qtbot.addWidget(picker)
    picker.set_target(bank, "Account")
    picker.fill_menu()
    picker.set_target(bank, "Transfer")  # another command: the accounts are stale
    picker.fill_menu()
    transfers = [info.aggregate_id for info in bank.store.streams(aggregate_type="Transfer")]
    qtbot.waitUntil(lambda: texts(picker.menu) != [READING], timeout=5000)
    qtbot.wait(100)  # time for a stale answer to arrive, if it were delivered
    assert texts(picker.menu) == transfers


def aggregate_id_field(panel: CommandPanel) -> str:
    editor = panel.findChild(QLineEdit, "field_aggregate_id")
    assert editor is not None
    return str(editor.text())


def test_a_chosen_streams_type_is_read_off_the_ui_thread(
        qtbot: Any, lane: QueryLane, bank: Application) -> None:
    panel = CommandPanel(lane=lane)
    qtbot.addWidget(panel)
    panel.set_application(bank)
    panel.select_command("DepositMoney")
    panel.set_aggregate_id("acc-003")
    assert aggregate_id_field(panel) == "" and panel.lookup_pending()  # kept until known
    qtbot.waitUntil(lambda: not panel.lookup_pending(), timeout=5000)
    assert aggregate_id_field(panel) == "acc-003"
    use = panel.findChild(QPushButton, "useSelectedStream")
    assert use.isEnabled() and "acc-003" in use.text()
    panel.set_aggregate_id("t-001")  # a Transfer: offered, not filled into a deposit
    qtbot.waitUntil(lambda: not panel.lookup_pending(), timeout=5000)
    assert aggregate_id_field(panel) == "acc-003" and not use.isEnabled()


def test_a_stale_stream_lookup_is_dropped(qtbot: Any, lane: QueryLane,
                                          bank: Application) -> None:
    panel = CommandPanel(lane=lane)
    qtbot.addWidget(panel)
    panel.set_application(bank)
    panel.select_command("DepositMoney")
    panel.set_aggregate_id("acc-004")
    panel.set_aggregate_id("acc-007")  # the newer choice wins
    qtbot.waitUntil(lambda: not panel.lookup_pending(), timeout=5000)
    qtbot.wait(100)
    assert aggregate_id_field(panel) == "acc-007"
    panel.set_aggregate_id("acc-009")
    panel.set_application(None)  # the store went away: its answer means nothing
    assert not panel.lookup_pending()
    panel.set_application(bank)
    panel.select_command("DepositMoney")
    qtbot.wait(200)
    assert aggregate_id_field(panel) == ""  # acc-009's answer never arrived


def first_event(app: Application, aggregate_id: str) -> str:
    return app.store.read_stream(aggregate_id)[0].event_id


def test_a_conversation_is_traced_off_the_ui_thread(
        qtbot: Any, lane: QueryLane, bank: Application) -> None:
    graph = ConversationWindow(lane=lane)
    qtbot.addWidget(graph)
    graph.show_for(bank, first_event(bank, "t-001"))
    assert graph.is_tracing() and graph.summary.text().startswith("Tracing")
    assert graph.view.conversation is None  # nothing drawn yet
    qtbot.waitUntil(lambda: not graph.is_tracing(), timeout=10_000)
    assert graph.view.conversation is not None
    assert graph.view.conversation.lanes[0] == "t-001"
    assert graph.summary.text().startswith("correlation ")


def test_only_the_newest_conversation_asked_for_is_drawn(
        qtbot: Any, lane: QueryLane, bank: Application) -> None:
    graph = ConversationWindow(lane=lane)
    qtbot.addWidget(graph)
    graph.show_for(bank, first_event(bank, "t-001"))
    graph.show_for(bank, first_event(bank, "t-overdrawn"))
    qtbot.waitUntil(lambda: not graph.is_tracing(), timeout=10_000)
    qtbot.wait(100)
    assert graph.view.conversation is not None
    assert graph.view.conversation.lanes[0] == "t-overdrawn"
    graph.show_for(bank, "no-such-event")  # a failure says so, no traceback
    qtbot.waitUntil(lambda: not graph.is_tracing(), timeout=10_000)
    assert graph.view.conversation is None and "Traceback" not in graph.summary.text()


def test_the_streams_list_reads_every_page_off_the_ui_thread(
        qtbot: Any, streams_panel: StreamsPanel, bank_store: str) -> None:
    store = open_store(bank_store, read_only=True)
    try:
        streams_panel.set_store(store)  # no first page given: everything on the lane
        model = streams_panel.model
        assert model.is_loading() and model.rowCount() == 0
        assert streams_panel.count_label.text() == "Reading the streams…"
        qtbot.waitUntil(lambda: not model.is_loading(), timeout=5000)
        assert model.rowCount() == model.total == store.stream_count()
        qtbot.waitUntil(lambda: streams_panel.type_combo.count() > 1, timeout=5000)
        assert [streams_panel.type_combo.itemText(i) for i in range(1, 3)] == \
            store.aggregate_types()
        model.set_sort(SortKey("aggregate_id", descending=False))
        model.set_sort(SortKey("aggregate_type", descending=True))  # the first is stale
        assert model.is_loading() and streams_panel.count_label.text() == "Sorting…"
        qtbot.waitUntil(lambda: not model.is_loading(), timeout=5000)
        qtbot.wait(100)
        shown = [model.info_at(row) for row in range(model.rowCount())]
        assert [i.aggregate_id for i in shown if i is not None] == [
            i.aggregate_id for i in store.streams_sorted(model.sort_key)]
    finally:
        streams_panel.set_store(None)
        store.close()


def test_a_stale_list_of_streams_or_types_is_never_shown(
        qtbot: Any, streams_panel: StreamsPanel, bank_store: str) -> None:
    store = open_store(bank_store, read_only=True)
    try:
        streams_panel.set_store(store)
        streams_panel.set_store(None)  # closed before the answers came
        qtbot.wait(300)
        assert streams_panel.model.rowCount() == 0 and not streams_panel.model.is_loading()
        combo = streams_panel.type_combo
        assert [combo.itemText(i) for i in range(combo.count())] in ([], ["All types"])
    finally:
        store.close()


def test_selecting_a_stream_not_loaded_yet_loads_pages_off_the_ui_thread(
        qtbot: Any, streams_panel: StreamsPanel, many_accounts_store: str) -> None:
    store = open_store(many_accounts_store, read_only=True)
    try:
        streams_panel.set_store(store, read_first_streams(store))  # as the opener gives it
        model = streams_panel.model
        assert not model.is_loading() and model.rowCount() == PAGE_SIZE
        oldest = "bulk-00000"  # last activity first: the oldest stream is on the last page
        assert model.row_of(oldest) is None
        assert not streams_panel.select_aggregate(oldest)  # not yet: on its way
        assert streams_panel.seeking()
        qtbot.waitUntil(lambda: streams_panel.selected_aggregate() == oldest, timeout=10_000)
        assert not streams_panel.seeking() and model.rowCount() == model.total == 1200
        streams_panel.set_store(store, read_first_streams(store))
        assert not streams_panel.select_aggregate("bulk-00001")
        streams_panel.set_store(None)  # another store: that stream means nothing now
        qtbot.wait(300)
        assert not streams_panel.seeking() and streams_panel.selected_aggregate() is None
        assert model.rowCount() == 0
    finally:
        store.close()


def test_a_bare_streams_model_reads_where_it_is_called(bank_store: str) -> None:
    store = open_store(bank_store, read_only=True)
    try:
        model = StreamsModel()
        model.set_store(store)
        assert not model.is_loading() and model.rowCount() == store.stream_count()
        assert model.canFetchMore(QModelIndex()) is False
    finally:
        store.close()


def test_a_store_is_closed_on_a_worker_and_waited_for(qtbot: Any, bank_store: str,
                                                      tmp_path: Path) -> None:
    closer = StoreCloser()
    session = open_session(bank_store, domain_spec="incident_core.examples.bank:domain")
    closer.close(session)
    assert closer.busy  # the UI thread went on
    closer.wait()  # runs the event loop until it is closed
    assert not closer.busy
    moved = tmp_path / "moved.sqlite3"
    Path(bank_store).rename(moved)  # the file is free: what branching does next
    again = open_store(str(moved), read_only=True)
    try:
        assert again.stream_count() > 0
    finally:
        again.close()
    closer.finish()

