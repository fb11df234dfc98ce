"""The timeline of the selected aggregate: its events by version, paged lazily."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from incident_core import EventStore, RecordedEvent
from incident_gui.models.event_cells import KnowsEvent
from incident_gui.models.timeline_model import TimelineModel
from incident_gui.widgets.event_table import EventTable
from incident_gui.widgets.naming import named

__all__ = ["TimelinePanel"]


class TimelinePanel(QWidget):
    """A title naming the aggregate, and its events (`timelineView`)."""

    sig_event_selected = Signal(object)  # RecordedEvent or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelinePanel")
        self._store: EventStore | None = None
        self._shown_version: int | None = None  # kept across a change of order
        self.model = TimelineModel(self)
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
        current = self.current_event()
        self.model.set_aggregate(self.model.aggregate_id)
        self._update_title()
        if current is not None:
            self.select_version(current.version)

    def select_version(self, version: int) -> None:
        row = self.model.row_of_version(version)
        if row is None:
            return
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)

    def select_last(self) -> None:
        """Select the latest event (loading the pages up to it)."""
        if self.model.total:
            self.select_version(self.model.total)

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
        info = self._store.stream(aggregate_id)
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
        event = self.model.event_at(current.row())
        self._shown_version = None if event is None else event.version
        self.sig_event_selected.emit(event)
