"""Activity at a glance: an ActivityChart fed by `store.event_histogram`, off the UI thread."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from incident_core import EventStore
from incident_gui.colors import color_for_event_type
from incident_gui.query_thread import QueryThread
from incident_gui.widgets.activity_chart import ActivityChart
from incident_gui.widgets.naming import named

__all__ = ["ActivityStrip"]

BUCKETS = 60
# Live updates redraw the chart at most this often (a histogram scans the events).
REFRESH_INTERVAL_MS = 5000


class ActivityStrip(QWidget):
    """A caption and the chart of one scope: the whole store or one aggregate.

    A click on a bar emits `sig_range_clicked(start, end)`; for the newest bar the end is
    None (open-ended): that bar holds the newest event itself, which a half-open range
    ending at the bar's end would leave out."""

    sig_range_clicked = Signal(str, object)  # ISO start, ISO end or None

    def __init__(self, name: str, loader: QueryThread, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._loader = loader
        self._store: EventStore | None = None
        self._aggregate_id: str | None = None
        self._whole_store = True
        self._generation = 0
        loader.sig_done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        loader.sig_failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        self.caption = named(QLabel(), f"{name}Caption")
        self.chart = ActivityChart(self)
        self.chart.setObjectName(f"{name}Chart")
        self._throttle = QTimer(self, singleShot=True, interval=REFRESH_INTERVAL_MS)
        self._throttle.timeout.connect(self.reload)
        self.chart.sig_bucket_clicked.connect(self._on_bucket_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.chart, 1)
        # Just what the chart needs: the tables below get the rest of the height.
        self.setFixedHeight(self.caption.sizeHint().height() + layout.spacing()
                            + self.chart.minimumSizeHint().height())

    def set_scope(self, store: EventStore | None, *, aggregate_id: str | None = None,
                  whole_store: bool = True) -> None:
        """Chart the whole store, or one aggregate (`whole_store=False`)."""
        self._store = store
        self._aggregate_id = aggregate_id
        self._whole_store = whole_store
        self.reload()

    def reload(self) -> None:
        self._throttle.stop()
        self._generation += 1
        store, aggregate_id = self._store, self._aggregate_id
        if store is None or (not self._whole_store and aggregate_id is None):
            self.caption.setText("Activity: select a stream" if store else "Activity")
            self.chart.set_data([], {})
            return
        scope = "whole store" if self._whole_store else aggregate_id
        self.caption.setText(f"Activity over time — {scope} (computing…)")
        self._loader.submit((self.objectName(), self._generation),
                            lambda: store.event_histogram(buckets=BUCKETS,
                                                          aggregate_id=aggregate_id))

    def _on_bucket_clicked(self, start: str, end: str) -> None:
        count = self.chart.bucket_count()
        newest = count > 0 and self.chart.bucket_span(count - 1)[0] <= datetime.fromisoformat(
            start)
        self.sig_range_clicked.emit(start, None if newest else end)

    def schedule_reload(self) -> None:
        """Live: redraw soon, at most once per REFRESH_INTERVAL_MS."""
        if not self._throttle.isActive():
            self._throttle.start()

    def _on_done(self, key: object, result: object) -> None:
        if key != (self.objectName(), self._generation) or not isinstance(result, tuple):
            return
        labels, counts = result
        self.chart.set_type_colors({name: color_for_event_type(name) for name in counts})
        self.chart.set_data(labels, counts)
        scope = "whole store" if self._whole_store else self._aggregate_id
        total = sum(sum(series) for series in counts.values())
        self.caption.setText(f"Activity over time — {scope} · {total:,} events")

    def _on_failed(self, key: object, message: str, _details: str) -> None:
        if key == (self.objectName(), self._generation):
            self.caption.setText(f"Activity unavailable: {message}")
