"""The timeline of the selected aggregate: its events by version, paged lazily."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from incident_core import EventStore, RecordedEvent
from incident_gui.models.event_cells import KnowsEvent
from incident_gui.models.timeline_model import TimelineModel
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane
from incident_gui.widgets.event_table import EventTable

__all__ = ["TimelinePanel"]


class TimelinePanel(QWidget):
    """A title naming the aggregate, and its events (`timelineView`)."""

    sig_event_selected = Signal(object)  # RecordedEvent or None

    def __init__(self, lane: QueryLane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelinePanel")
        self._store: EventStore | None = None
        self._shown_version: int | None = None  # kept across a change of order
        self._pending: int | None = None  # a version to select once the rows are known
        self._awaited_row: int | None = None  # the current row, its page still loading
        self.model = TimelineModel(lane, self)
        self.model.sig_loaded.connect(self._on_loaded)
        self.model.sig_page_loaded.connect(self._on_page_loaded)
        self.model.sig_failed.connect(self._on_failed)
        self.title = named(QLabel("Select a stream to see its timeline"), "timelineTitle")
        self.title.setWordWrap(True)
        self.view = EventTable("timelineView", self)
        self.view.setModel(self.model)
        self.view.set_column_samples(["Version", "TransferRequested",
                                      "2000-00-00 00:00:00.000"])
        self.view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        header = self.view.horizontalHeader()
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorShown(True)
        self.view.setSortingEnabled(True)  # Version / Recorded: oldest or newest first
        header.sortIndicatorChanged.connect(self._on_header_sort)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)

    def set_store(self, store: EventStore | None, knows: KnowsEvent) -> None:
        self._store = store
        self.model.set_store(store, knows)
        self._update_title()

    def show_aggregate(self, aggregate_id: str | None, *, version: int | None = None) -> None:
        """Show an aggregate's timeline (and select `version` if given)."""
        if aggregate_id != self.model.aggregate_id:
            self.model.set_aggregate(aggregate_id)
            self._update_title()
        if version is not None:
            self.select_version(version)

    def refresh(self) -> None:
        current = self._shown_version
        self.model.set_aggregate(self.model.aggregate_id)
        self._update_title()
        if current is not None:
            self.select_version(current)

    def select_version(self, version: int) -> None:
        """Select `version` (once the rows are known, if they are being read)."""
        if self.model.loading:
            self._pending = version
            return
        row = self.model.row_of_version(version)
        if row is None:
            return
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)

    def select_last(self) -> None:
        """Select the latest event (once the rows are known)."""
        if self.model.loading:
            self._pending = -1
        elif self.model.total:
            self.select_version(self.model.total)

    def is_loading(self) -> bool:
        """True while the rows, a page or the selected event are being read."""
        return self.model.loading or self.model.requesting() or self._awaited_row is not None \
            or self._pending is not None

    def _on_loaded(self) -> None:
        self._update_title()
        pending, self._pending = self._pending, None
        if pending == -1:
            self.select_last()
        elif pending is not None:
            self.select_version(pending)

    def _on_page_loaded(self, first: int, last: int) -> None:
        row = self._awaited_row
        if row is not None and first <= row <= last and row == self.view.currentIndex().row():
            self._awaited_row = None
            self._emit_current(self.view.currentIndex())

    def _on_failed(self, message: str) -> None:
        self.title.setText(f"Cannot read this timeline: {escape(message)}")

    def current_event(self) -> RecordedEvent | None:
        return self.model.event_at(self.view.currentIndex().row())

    def append_recorded(self, events: Sequence[RecordedEvent]) -> None:
        shown = self.model.aggregate_id
        if shown is None or not any(e.aggregate_id == shown for e in events):
            return
        self.model.append_recorded(events)
        self._update_title()

    def _update_title(self) -> None:
        aggregate_id = self.model.aggregate_id
        if aggregate_id is None or self._store is None:
            self.title.setText("Select a stream to see its timeline")
            return
        info = self.model.info
        if self.model.loading:
            self.title.setText(f"<b>{escape(aggregate_id)}</b> — reading…")
            return
        if info is None:
            self.title.setText(f"<b>{escape(aggregate_id)}</b> — no events")
            return
        noun = "event" if info.event_count == 1 else "events"
        self.title.setText(f"<b>{escape(aggregate_id)}</b> · {escape(info.aggregate_type)}"
                           f" · version {info.version} · {info.event_count:,} {noun}")

    def _on_header_sort(self, section: int, _order: Qt.SortOrder) -> None:
        """Keep the indicator on a column that sorts (the type and data do not), and the
        selected version selected in the new order."""
        if self._shown_version is not None:
            self.select_version(self._shown_version)
        if section not in (0, 2):
            header = self.view.horizontalHeader()
            header.blockSignals(True)
            header.setSortIndicator(0, Qt.SortOrder.DescendingOrder if self.model.descending
                                    else Qt.SortOrder.AscendingOrder)
            header.blockSignals(False)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._emit_current(current)

    def _emit_current(self, current: QModelIndex) -> None:
        """Tell which event is selected; while its page loads, tell it once it is here."""
        event = self.model.event_at(current.row())
        if event is None and self.model.is_loading_row(current.row()):
            self._awaited_row = current.row()
            return
        self._awaited_row = None
        self._shown_version = None if event is None else event.version
        self.sig_event_selected.emit(event)
