"""After a live change every view agrees at once (one refresh signal); the activity chart
keeps a useful time axis after live events, and a drag across bars zooms and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from incident_core import Application, EventFilter
from incident_core.envelope import format_time
from incident_core.examples.bank import DepositMoney
from incident_core.examples.bank import domain as bank_domain
from tests.gui.conftest import envelope

BURST_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def burst_store(tmp_path: Path) -> str:
    """120 accounts opened over two minutes, long ago (a burst, then nothing)."""
    path = str(tmp_path / "burst.sqlite3")
    with Application.open(path, bank_domain, create=True) as app:
        app.import_events([
            envelope(f"acc-{n:03d}", 1, "AccountOpened", {"account_number": f"acc-{n:03d}"},
                     when=format_time(BURST_START + timedelta(seconds=n)))
            for n in range(120)])
    return path


def bar_point(chart, index: int) -> QPoint:
    plot = chart.chart_layout().plot
    slot = plot.width() / chart.bucket_count()
    return QPoint(round(plot.left() + (index + 0.5) * slot), plot.bottom() - 2)


def test_a_live_change_shows_everywhere_at_once_and_the_axis_adapts(
        make_window, burst_store, qtbot):
    window = make_window(burst_store)
    strip = window.store_activity
    qtbot.waitUntil(lambda: strip.chart.total() == 120, timeout=5000)
    log, streams = window.global_log_panel.model, window.streams_panel.model
    seen: list[tuple[int, int, int, int]] = []
    window.sig_store_changed.connect(lambda _c: seen.append((
        log.rowCount(), strip.chart.total(), streams.total,
        streams.info_at(0).event_count)))

    window.session.app.dispatch(DepositMoney(aggregate_id="acc-007", amount=5))
    qtbot.waitUntil(lambda: bool(seen), timeout=3000)
    # every view had updated by the time the one signal was handled
    assert seen[0] == (121, 121, 120, 2)
    assert streams.info_at(0).aggregate_id == "acc-007"
    assert "121 events" in strip.caption.text()

    # the axis is read again: the burst keeps many bars, the quiet months one empty bar
    chart = strip.chart

    def totals() -> list[int]:
        return [sum(chart.type_counts(t)[i] for t in chart.event_types())
                for i in range(chart.bucket_count())]

    qtbot.waitUntil(lambda: totals()[-2:] == [0, 1], timeout=10_000)
    counts = totals()
    assert sum(counts) == 121 and counts[-1] == 1
    assert sum(1 for n in counts if n) >= 10
    assert counts[-2] == 0  # the gap, one bar
    start, end = chart.bucket_span(chart.bucket_count() - 2)
    assert end - start > timedelta(days=30)


def test_dragging_across_bars_zooms_and_filters_the_log(make_window, burst_store, qtbot):
    window = make_window(burst_store)
    strip = window.store_activity
    chart = strip.chart
    qtbot.waitUntil(lambda: chart.bucket_count() == 60, timeout=5000)
    first_span, last_span = chart.bucket_span(10), chart.bucket_span(19)
    qtbot.mousePress(chart, Qt.MouseButton.LeftButton, pos=bar_point(chart, 10))
    qtbot.mouseMove(chart, bar_point(chart, 15))
    assert chart.selected_buckets() == (10, 15)
    qtbot.mouseMove(chart, bar_point(chart, 19))
    qtbot.mouseRelease(chart, Qt.MouseButton.LeftButton, pos=bar_point(chart, 19))
    since, until = format_time(first_span[0]), format_time(last_span[1])
    assert strip.zoomed_range == (since, until)
    log = window.global_log_panel.model
    assert log.event_filter == EventFilter(since=since, until=until)
    qtbot.waitUntil(lambda: log.rowCount() > 0 and not log.is_loading())
    inside = [e for e in window.session.app.store.read_events()
              if since <= e.recorded_at_text < until]
    assert log.rowCount() == len(inside) > 0
    qtbot.waitUntil(lambda: chart.total() == len(inside), timeout=5000)
    assert "(zoomed)" in strip.caption.text() and strip.reset_zoom.isVisible()
    strip.reset_zoom.click()
    qtbot.waitUntil(lambda: chart.total() == 120, timeout=5000)
    assert strip.zoomed_range is None and not strip.reset_zoom.isVisible()
