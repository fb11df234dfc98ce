"""Activity at a glance: an ActivityChart fed by `store.event_histogram`, off the UI thread.

Live events are counted into the chart at once (`apply_live`), so its total agrees with the
log and the streams list; the buckets are read again shortly after (throttled), so the
time axis adapts to the new range. The throttle grows with what the last read cost
(`live_refresh_interval`): the whole store's histogram scans every event, a minute at ten
million, and re-reading it every few seconds while events arrive would keep its lane
scanning and the caption saying "computing…" for as long as they do. Dragging across
bars zooms to them (and filters the log to that time range); "All time" zooms out.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from incident_core import EventStore, RecordedEvent
from incident_core.envelope import format_time
from incident_gui.presentation.colors import color_for_event_type
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane, Requests
from incident_gui.widgets.activity_chart import ActivityChart
from incident_gui.widgets.elided_label import ElidedLabel

__all__ = ["REFRESH_INTERVAL_MS", "ActivityStrip", "live_refresh_interval"]

BUCKETS = 60
# Live updates redraw the chart at most this often (a histogram scans the events)...
REFRESH_INTERVAL_MS = 5000
READ_SHARE = 0.1  # ...and a read costing more takes at most this share of its lane's time


def live_refresh_interval(read_seconds: float) -> int:
    """Milliseconds between live re-reads after a read that took `read_seconds`."""
    return max(REFRESH_INTERVAL_MS, int(read_seconds * 1000 / READ_SHARE))


class ActivityStrip(QWidget):
    """A caption and the chart of one scope: the whole store or one aggregate.

    A click on a bar emits `sig_range_clicked(start, end)`; for the newest bar the end is
    None (open-ended): that bar holds the newest event itself, which a half-open range
    ending at the bar's end would leave out."""

    sig_range_clicked = Signal(str, object)  # ISO start, ISO end or None

    def __init__(self, name: str, lane: QueryLane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._requests = Requests(lane)
        self._store: EventStore | None = None
        self._aggregate_id: str | None = None
        self._whole_store = True
        self._range: tuple[str, str | None] | None = None  # zoomed to [since, until)
        self.caption = named(ElidedLabel(), f"{name}Caption")
        self.chart = ActivityChart(self)
        self.chart.setObjectName(f"{name}Chart")
        self._throttle = QTimer(self, singleShot=True, interval=REFRESH_INTERVAL_MS)
        self._throttle.timeout.connect(self.reload)
        self._read_started = 0.0
        self.last_read_seconds = 0.0  # what the last histogram read cost
        self.chart.sig_bucket_clicked.connect(self._on_bucket_clicked)
        self.chart.sig_range_selected.connect(self._on_range_selected)
        self.reset_zoom = named(QToolButton(), f"{name}ResetZoom")
        self.reset_zoom.setText("All time")
        self.reset_zoom.setToolTip("Zoom out to every event (drag across bars to zoom in)")
        self.reset_zoom.setAutoRaise(True)
        self.reset_zoom.clicked.connect(self.zoom_out)
        self.reset_zoom.hide()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.caption, 1)
        top.addWidget(self.reset_zoom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.chart, 1)
        # Just what the chart needs: the tables below get the rest of the height.
        top_height = max(self.caption.sizeHint().height(), self.reset_zoom.sizeHint().height())
        self.setFixedHeight(top_height + layout.spacing()
                            + self.chart.minimumSizeHint().height())

    def set_scope(self, store: EventStore | None, *, aggregate_id: str | None = None,
                  whole_store: bool = True) -> None:
        """Chart the whole store, or one aggregate (`whole_store=False`)."""
        self._store = store
        self._aggregate_id = aggregate_id
        self._whole_store = whole_store
        self._range = None
        self.reload()

    @property
    def zoomed_range(self) -> tuple[str, str | None] | None:
        return self._range

    def zoom_to(self, since: str, until: str | None) -> None:
        """Chart only [since, until) (until None: from `since` on), with new buckets."""
        self._range = (since, until)
        self.reload()

    def zoom_out(self) -> None:
        self._range = None
        self.reload()

    def apply_live(self, events: list[RecordedEvent] | None) -> None:
        """Events were recorded: count them now (None: too many, read again soon)."""
        if events is None or self._store is None:
            self.schedule_reload()
            return
        mine = [e for e in events if self._in_scope(e)]
        if not mine:
            return
        stamps = [(datetime.fromisoformat(e.recorded_at_text), e.event_type) for e in mine]
        if self.chart.add_events(stamps):
            self._show_total()
            self.schedule_reload()  # the axis adapts to the new range shortly
        else:
            self.reload()

    def _in_scope(self, event: RecordedEvent) -> bool:
        if not self._whole_store and event.aggregate_id != self._aggregate_id:
            return False
        if self._range is None:
            return True
        since, until = self._range
        return event.recorded_at_text >= since and (until is None
                                                     or event.recorded_at_text < until)

    def reload(self) -> None:
        self._throttle.stop()
        self._requests.reset()  # an answer for the previous scope is stale
        store, aggregate_id = self._store, self._aggregate_id
        if store is None or (not self._whole_store and aggregate_id is None):
            self.caption.setText("Activity: select a stream" if store else "Activity")
            self.chart.set_data([], {})
            return
        self.caption.setText(f"Activity over time — {self._scope()} (computing…)")
        self._read_started = time.monotonic()
        since, until = self._range or (None, None)
        self.reset_zoom.setVisible(self._range is not None)
        self._requests.submit(lambda: store.event_histogram(
            buckets=BUCKETS, aggregate_id=aggregate_id, since=since, until=until),
            self._on_done, self._on_failed)

    def _scope(self) -> str:
        scope = "whole store" if self._whole_store else str(self._aggregate_id)
        if self._range is not None:
            scope += " (zoomed)"
        return scope

    def _show_total(self) -> None:
        total = self.chart.total()
        self.caption.setText(f"Activity over time — {self._scope()} · {total:,} "
                             f"event{'s' if total != 1 else ''}")

    def _on_range_selected(self, first: int, last: int) -> None:
        """A drag across bars: zoom to them and show their events in the log."""
        newest = last == self.chart.bucket_count() - 1 and (
            self._range is None or self._range[1] is None)
        since = format_time(self.chart.bucket_span(first)[0])
        until = None if newest else format_time(self.chart.bucket_span(last)[1])
        self.zoom_to(since, until)
        self.sig_range_clicked.emit(since, until)

    def _on_bucket_clicked(self, start: str, end: str) -> None:
        count = self.chart.bucket_count()
        newest = count > 0 and self.chart.bucket_span(count - 1)[0] <= datetime.fromisoformat(
            start)
        self.sig_range_clicked.emit(start, None if newest else end)

    def schedule_reload(self) -> None:
        """Live: read again soon, at most once per `refresh_interval_ms`."""
        if not self._throttle.isActive():
            self._throttle.start(self.refresh_interval_ms)

    @property
    def refresh_interval_ms(self) -> int:
        return live_refresh_interval(self.last_read_seconds)

    def _on_done(self, result: tuple[list[str], dict[str, list[int]]]) -> None:
        self.last_read_seconds = time.monotonic() - self._read_started
        labels, counts = result
        self.chart.set_type_colors({name: color_for_event_type(name) for name in counts})
        self.chart.set_data(labels, counts)
        self._show_total()

    def _on_failed(self, message: str, _details: str) -> None:
        self.caption.setText(f"Activity unavailable: {message}")
