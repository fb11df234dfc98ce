"""The global log's filters: event types, aggregate, time range and text in the data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from incident_core import EventFilter
from incident_core.envelope import format_time
from incident_gui.presentation.naming import named
from incident_gui.widgets.event_type_selector import EventTypeSelector

__all__ = ["LogFilterBar"]

FILTER_DELAY_MS = 300
_TIME_FORMAT = "yyyy-MM-dd HH:mm:ss"


class LogFilterBar(QWidget):
    """Emits `sig_filter_changed(EventFilter)` shortly after the user stops typing."""

    sig_filter_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logFilterBar")
        self.types = EventTypeSelector(self)
        self.aggregate_edit = self._line("aggregateFilter", "Aggregate id (exact)")
        self.text_edit = self._line("textFilter", "Text in the event data")
        self.correlation_edit = self._line("correlationFilter", "Correlation id")
        self.correlation_edit.setToolTip("Events of one conversation: a command and what "
                                         "its process managers recorded")
        self.since_check, self.since_edit = self._time("since", "From")
        self.until_check, self.until_edit = self._time("until", "Until")
        self.clear_button = named(QPushButton("Clear"), "clearFiltersButton")
        self.clear_button.setToolTip("Remove every filter")
        # A range set from a chart bar, kept to the microsecond while the edits show it.
        self._exact_range: tuple[str, str] | None = None
        self._debounce = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._debounce.timeout.connect(self._emit)
        self.types.sig_changed.connect(self._emit)
        self.clear_button.clicked.connect(self.clear)
        self._layout()

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = named(QLineEdit(), name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        edit.textChanged.connect(self._debounce_start)
        edit.returnPressed.connect(self._emit)
        return edit

    def _time(self, name: str, label: str) -> tuple[QCheckBox, QDateTimeEdit]:
        check = named(QCheckBox(label), f"{name}Check")
        edit = named(QDateTimeEdit(), f"{name}Edit")
        edit.setDisplayFormat(_TIME_FORMAT)
        edit.setCalendarPopup(True)
        edit.setMinimumWidth(90)  # may shrink in a narrow window (seconds get cut first)
        edit.setDateTime(QDateTime.currentDateTime())
        edit.setEnabled(False)
        check.toggled.connect(edit.setEnabled)
        check.toggled.connect(self._on_time_toggled)
        edit.dateTimeChanged.connect(self._on_time_edited)
        return check, edit

    def _layout(self) -> None:
        first = QHBoxLayout()
        first.addWidget(self.types)
        first.addWidget(self.aggregate_edit, 1)
        first.addWidget(self.text_edit, 2)
        second = QHBoxLayout()
        for widget in (self.since_check, self.since_edit, self.until_check, self.until_edit):
            second.addWidget(widget)
        second.addWidget(self.clear_button)
        first.addWidget(self.correlation_edit, 1)  # not on the time row: the bar stays narrow
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(first)
        layout.addLayout(second)

    # -- public API -------------------------------------------------------------------------
    def set_event_types(self, types: Iterable[str]) -> None:
        self.types.set_types(types)

    def add_event_types(self, types: Iterable[str]) -> None:
        """Offer types seen in new events too (no query: the store is not asked again)."""
        known = set(self.types.offered())
        if not set(types) <= known:
            self.types.set_types(sorted(known | set(types)))

    def current_filter(self) -> EventFilter:
        since, until = self._exact_range or (_utc_text(self.since_edit),
                                             _utc_text(self.until_edit))
        return EventFilter(
            aggregate_id=self.aggregate_edit.text().strip() or None,
            event_types=self.types.selected(),
            since=since if self.since_check.isChecked() else None,
            until=until if self.until_check.isChecked() else None,
            text=self.text_edit.text().strip() or None,
            correlation_id=self.correlation_edit.text().strip() or None)

    def clear(self) -> None:
        widgets = (self.types, self.aggregate_edit, self.text_edit, self.since_check,
                   self.until_check, self.correlation_edit)
        for widget in widgets:
            widget.blockSignals(True)
        self.types.clear()
        self.aggregate_edit.clear()
        self.text_edit.clear()
        self.correlation_edit.clear()
        self.since_check.setChecked(False)
        self.until_check.setChecked(False)
        self.since_edit.setEnabled(False)
        self.until_edit.setEnabled(False)
        self._exact_range = None
        for widget in widgets:
            widget.blockSignals(False)
        self._emit()

    def set_time_range(self, since: str, until: str | None) -> None:
        """Show events recorded in [since, until) — or from `since` on when `until` is None
        (ISO 8601 times, e.g. a chart bar)."""
        widgets = (self.since_check, self.until_check, self.since_edit, self.until_edit)
        for widget in widgets:
            widget.blockSignals(True)
        start = datetime.fromisoformat(since)
        end = start if until is None else datetime.fromisoformat(until)
        for check, edit, moment, on in ((self.since_check, self.since_edit, start, True),
                                        (self.until_check, self.until_edit, end,
                                         until is not None)):
            edit.setDateTime(QDateTime.fromMSecsSinceEpoch(int(moment.timestamp() * 1000)))
            check.setChecked(on)
            edit.setEnabled(on)
        for widget in widgets:
            widget.blockSignals(False)
        self._exact_range = (format_time(start), format_time(end))
        self._emit()

    def set_aggregate(self, aggregate_id: str) -> None:
        """Show only this aggregate's events (a context menu's "filter by")."""
        self._set_line(self.aggregate_edit, aggregate_id)

    def set_correlation(self, correlation_id: str) -> None:
        self._set_line(self.correlation_edit, correlation_id)

    def set_event_type(self, event_type: str) -> None:
        self.add_event_types([event_type])
        self.types.blockSignals(True)
        self.types.set_selected([event_type])
        self.types.blockSignals(False)
        self._emit()

    def _set_line(self, edit: QLineEdit, text: str) -> None:
        edit.blockSignals(True)
        edit.setText(text)
        edit.blockSignals(False)
        self._emit()

    def focus_text(self) -> None:
        self.text_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.text_edit.selectAll()

    def _on_time_toggled(self) -> None:
        self._exact_range = None
        self._emit()

    def _on_time_edited(self) -> None:
        self._exact_range = None
        self._debounce.start()

    def _debounce_start(self) -> None:
        self._debounce.start()

    def _emit(self) -> None:
        self._debounce.stop()
        self.sig_filter_changed.emit(self.current_filter())


def _utc_text(edit: QDateTimeEdit) -> str:
    """The edit's local time as the store's UTC text."""
    seconds = edit.dateTime().toSecsSinceEpoch()
    return format_time(datetime.fromtimestamp(seconds, UTC))
