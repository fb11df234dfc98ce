"""What keeps the inspector quick on a ten-million-event store, checked on small real
stores: nothing that walks every stream or event stands between opening and the first
page, the type lists come from index seeks, the whole store's chart has a lane of its own,
and full garbage collections wait while a long operation runs."""

from __future__ import annotations

import gc
import threading
from collections.abc import Generator
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex

from incident_core import StreamInfo, open_store
from incident_core.examples.bank import DepositMoney
from incident_core.ports.sorting import SortKey, stream_cursor
from incident_core.progress import Progress
from incident_core.store.sql import inspector_reads
from incident_gui.models.streams_model import (
    PAGE_SIZE,
    StreamsModel,
    pattern_matches,
    read_first_streams,
)
from incident_gui.tasks.collector import full_collections_held
from incident_gui.tasks.workers import OperationWorker
from incident_gui.widgets.activity_strip import REFRESH_INTERVAL_MS, live_refresh_interval
from incident_gui.widgets.streams_panel import StreamsPanel


def test_the_first_streams_page_comes_before_the_count(
        qtbot: Any, streams_panel: StreamsPanel, many_accounts_store: str) -> None:
    store = open_store(many_accounts_store, read_only=True)
    try:
        first = read_first_streams(store)  # what the opener reads: no count of 1,200
        assert first.total is None and len(first.page) == PAGE_SIZE
        streams_panel.set_store(store, first)
        model = streams_panel.model
        assert model.rowCount() == PAGE_SIZE and not model.is_loading()
        assert not model.counted and model.canFetchMore(QModelIndex())
        assert streams_panel.count_label.text() == "500 streams loaded, counting…"
        qtbot.waitUntil(lambda: model.counted, timeout=5000)  # counted on the lane
        assert model.total == store.stream_count() == 1200
        assert streams_panel.count_label.text() == "1,200 streams (500 loaded)"
    finally:
        streams_panel.set_store(None)
        store.close()


def test_pages_read_before_the_count_arrives_keep_the_list_going(
        qtbot: Any, many_accounts_store: str) -> None:
    store = open_store(many_accounts_store, read_only=True)
    try:
        model = StreamsModel()  # a bare model counts and reads where it is called
        model.set_store(store, read_first_streams(store))
        assert model.counted and model.total == 1200
        while model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        ids = [model.info_at(row).aggregate_id for row in range(model.rowCount())]
        assert len(set(ids)) == model.total == 1200
    finally:
        store.close()


def test_the_type_lists_are_every_distinct_type_in_order(make_window: Any, bank_store: str,
                                                         qtbot: Any) -> None:
    window = make_window(bank_store)
    store = window.session.app.store
    events = [e for batch in store.iter_events() for e in batch]
    assert store.event_types() == sorted({e.event_type for e in events})
    assert store.aggregate_types() == sorted({e.aggregate_type for e in events})
    offered = window.global_log_panel.filters.types
    qtbot.waitUntil(lambda: offered.offered() == store.event_types(), timeout=5000)
    combo = window.streams_panel.type_combo
    assert [combo.itemText(i) for i in range(1, combo.count())] == ["Account", "Transfer"]


def test_an_empty_store_has_no_types(tmp_path: Any) -> None:
    store = open_store(str(tmp_path / "empty.sqlite3"), create=True)
    try:
        assert store.event_types() == [] and store.aggregate_types() == []
    finally:
        store.close()


def test_a_streams_chart_is_not_kept_waiting_by_the_whole_store_chart(
        make_window: Any, bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    gate = threading.Event()
    # the whole store's lane busy, as with a histogram of ten million events
    window.lanes["storeChartLoader"].submit(lambda: gate.wait(10), lambda _r: None,
                                            lambda _m, _d: None)
    try:
        window.show_aggregate("acc-001")
        chart = window.aggregate_activity
        qtbot.waitUntil(lambda: "acc-001" in chart.caption.text()
                        and "computing" not in chart.caption.text(), timeout=5000)
        assert chart.chart.total() == len(window.session.app.store.read_stream("acc-001"))
        assert not gate.is_set()
    finally:
        gate.set()


def test_full_collections_wait_while_an_operation_runs(qtbot: Any) -> None:
    before = gc.get_threshold()
    seen: list[tuple[bool, int]] = []

    def operation() -> Generator[Progress, None, str]:
        seen.append((full_collections_held(), gc.get_threshold()[2]))
        yield Progress(1, 1)
        return "done"

    worker: OperationWorker[str] = OperationWorker(operation)
    with qtbot.waitSignal(worker.signals.finished, timeout=5000) as finished:
        worker.start()
    assert finished.args == ["done"]
    assert seen and seen[0][0] and seen[0][1] > 1_000_000
    assert gc.get_threshold() == before and not full_collections_held()


def test_a_costly_chart_is_read_again_less_often_while_events_arrive(
        make_window: Any, bank_store: str, qtbot: Any) -> None:
    assert live_refresh_interval(0.02) == REFRESH_INTERVAL_MS
    assert live_refresh_interval(60.0) == 600_000  # a minute's scan: every ten minutes
    window = make_window(bank_store)
    strip = window.store_activity
    qtbot.waitUntil(lambda: "computing" not in strip.caption.text(), timeout=5000)
    total = strip.chart.total()
    assert total > 0 and strip.last_read_seconds > 0
    assert strip.refresh_interval_ms == live_refresh_interval(strip.last_read_seconds)
    strip.last_read_seconds = 60.0  # as the histogram of ten million events took
    window.session.app.dispatch(DepositMoney(aggregate_id="acc-001", amount=5))
    qtbot.waitUntil(lambda: strip.chart.total() == total + 1, timeout=5000)  # counted now
    qtbot.wait(REFRESH_INTERVAL_MS + 500)
    assert strip.last_read_seconds == 60.0  # not read again after the usual few seconds
    assert strip.refresh_interval_ms == 600_000


@pytest.mark.parametrize("descending", [True, False])
def test_a_filtered_list_by_activity_walks_a_few_events_then_reads_the_streams(
        many_accounts_store: str, monkeypatch: pytest.MonkeyPatch, descending: bool) -> None:
    """Pages of a filter few streams pass, in last-activity order, whether they come from
    the walk of the newest events, from the streams read beyond it, or from both."""
    monkeypatch.setattr(inspector_reads, "ACTIVITY_WALK", 50)  # 2,400 events: walk 50
    store = open_store(many_accounts_store, read_only=True)
    sort = SortKey("last_position", descending)
    try:
        every = store.streams()
        for pattern in ("bulk-000*", "bulk-011*", "5", "nothing-*"):
            expected = sorted((i for i in every if pattern_matches(i.aggregate_id, pattern)),
                              key=lambda i: i.last_position, reverse=descending)
            pages: list[StreamInfo] = []
            while True:
                after = stream_cursor(pages[-1], sort) if pages else None
                page = store.streams_sorted(sort, after=after, limit=7, pattern=pattern)
                pages += page
                if len(page) < 7:
                    break
            assert [i.aggregate_id for i in pages] == [i.aggregate_id for i in expected]
        typed = store.streams_sorted(sort, aggregate_type="Account", limit=30)
        assert typed == sorted(every, key=lambda i: i.last_position, reverse=descending)[:30]
    finally:
        store.close()


def test_the_streams_of_the_past_are_counted_off_the_ui_thread_after_their_first_page(
        make_window: Any, many_accounts_store: str, qtbot: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from incident_gui.models import stream_reads

    counted_on: list[str] = []
    real = stream_reads.stream_count_as_of

    def noting(*args: Any, **kwargs: Any) -> int:
        counted_on.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(stream_reads, "stream_count_as_of", noting)
    window = make_window(many_accounts_store)
    model = window.streams_panel.model
    window.time_travel.show_moment(2_000)  # 1,000 accounts opened and funded by then
    # a first page at least: the view may already have asked for the next one as it paints
    qtbot.waitUntil(lambda: not model.is_loading() and model.rowCount() >= PAGE_SIZE,
                    timeout=10_000)
    qtbot.waitUntil(lambda: model.counted, timeout=10_000)
    assert model.total == 1_000 and model.as_of == 2_000
    # the label says "Reading…" while a next page (asked as the view paints) is on its way
    label = window.streams_panel.count_label
    qtbot.waitUntil(lambda: "1,000 streams as of position 2,000" in label.text(),
                    timeout=10_000)
    assert counted_on and threading.main_thread().name not in counted_on


def test_a_filter_page_is_not_kept_waiting_by_a_count_still_running(
        qtbot: Any, streams_panel: StreamsPanel, many_accounts_store: str) -> None:
    from PySide6.QtCore import Qt

    from incident_gui.tasks.query_lane import QueryLane

    store = open_store(many_accounts_store, read_only=True)
    gate = threading.Event()
    try:
        streams_panel.set_store(store, read_first_streams(store))
        model = streams_panel.model
        qtbot.waitUntil(lambda: model.counted, timeout=5000)
        counter = streams_panel.findChild(QueryLane, "streamsCounter")
        counter.submit(lambda: gate.wait(10), lambda _r: None, lambda _m, _d: None)  # a count
        streams_panel.filter_edit.setText("bulk-0001*")  # of two million streams, say
        qtbot.keyClick(streams_panel.filter_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not model.is_loading() and model.rowCount() == 10,
                        timeout=5000)
        assert not gate.is_set() and model.counted and model.total == 10
        assert [model.info_at(r).aggregate_id for r in range(10)] == [
            f"bulk-{n:05d}" for n in range(19, 9, -1)]  # last activity first
    finally:
        gate.set()
        streams_panel.set_store(None)
        store.close()
