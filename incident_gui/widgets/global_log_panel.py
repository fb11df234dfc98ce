"""The global log: all events by position, filterable, paged lazily off the UI thread."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from incident_core import EventFilter, EventStore, RecordedEvent
from incident_core.ports.sorting import SortKey
from incident_gui.models.event_cells import KnowsEvent
from incident_gui.models.global_log_model import NEWEST_FIRST, OLDEST_FIRST, GlobalLogModel
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane
from incident_gui.widgets.column_fit import ColumnFitter
from incident_gui.widgets.event_table import EventTable
from incident_gui.widgets.log_filter_bar import LogFilterBar

__all__ = ["GlobalLogPanel"]


class GlobalLogPanel(QWidget):
    """Filters, the `globalLogView` table and a one-line status."""

    sig_event_selected = Signal(object)  # RecordedEvent or None
    sig_first_page = Signal()  # the first page of a (re)loaded log has arrived
    sig_export_requested = Signal(str)  # "ndjson" or "csv": the log as shown

    def __init__(self, lane: QueryLane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("globalLogPanel")
        self._store: EventStore | None = None
        self._pending_row: int | None = None
        self._awaiting_first = False
        self.model = GlobalLogModel(lane, self)
        self.filters = LogFilterBar(self)
        self.view = EventTable("globalLogView", self)
        self.view.setModel(self.model)
        self.view.set_column_samples(["1,000,000", "acc-missing-00000", "Version",
                                      "TransferRequested", "2000-00-00 00:00:00.000"])
        # Position, version and type grow with what arrives (a page read, a live event).
        self.fitter = ColumnFitter(self.view, numeric=(0, 2), columns=(0, 2, 3),
                                   watch_inserts=False)
        self.status = named(QLabel(), "globalLogStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # errors quote store text
        self._build_buttons()
        self._setup_sorting()
        self.filters.sig_filter_changed.connect(self._on_filter_changed)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.model.sig_page_loaded.connect(self._on_page_loaded)
        self.model.sig_failed.connect(self._on_failed)
        for signal in (self.model.modelReset, self.model.rowsInserted):
            signal.connect(self._update_status)
        self._layout()

    def _build_buttons(self) -> None:
        self.end_button = named(QPushButton("Newest ⤓"), "jumpToEndButton")
        self.end_button.setToolTip("Jump to the newest event (End)")
        self.end_button.clicked.connect(self.jump_to_end)
        self.newest_first = named(QToolButton(), "newestFirstButton")
        self.newest_first.setText("Newest first")
        self.newest_first.setCheckable(True)
        self.newest_first.setToolTip("Show the newest events on top (or click a column "
                                     "header to sort by it)")
        self.newest_first.toggled.connect(self._on_newest_first)
        self.export_button = named(QToolButton(), "exportLogButton")
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Save the log as shown (filter and order) to a file")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        export_menu.addAction("NDJSON…", lambda: self.sig_export_requested.emit("ndjson"))
        export_menu.addAction("CSV…", lambda: self.sig_export_requested.emit("csv"))
        self.export_button.setMenu(export_menu)

    def _layout(self) -> None:
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.newest_first)
        bottom.addWidget(self.export_button)
        bottom.addWidget(self.end_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filters)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)

    # -- public API -----------------------------------------------------------------------
    def set_store(self, store: EventStore | None, knows: KnowsEvent, head: int = 0,
                  first_page: list[RecordedEvent] | None = None) -> None:
        """Show `store`, whose head the window read (`head`: no read on the UI thread);
        `first_page` (positions 1.., read with the head) is shown without a read."""
        self._store = store
        self.filters.set_event_types([])  # the window offers the store's types once read
        self._awaiting_first = store is not None
        self.model.set_store(store, knows, head, first_page)
        if not self.filters.current_filter().is_empty:
            self.model.set_filter(self.filters.current_filter())
        self._check_first_page()

    def refresh(self, head: int) -> None:
        """Read everything again, up to `head` (read by the window off the UI thread)."""
        self._awaiting_first = True
        self.model.set_head(head)
        self.model.reload()
        self._check_first_page()

    def grow_to(self, head: int, event_types: set[str],
                events: list[RecordedEvent] | None = None) -> None:
        """Live: the store's head moved to `head` (recording `events`, when known, of
        `event_types`); follow the end if it was showing."""
        self.filters.add_event_types(event_types)
        scrollbar = self.view.verticalScrollBar()
        at_end = scrollbar.value() >= scrollbar.maximum()
        self.model.grow_to(head, events)
        if at_end and self.view.currentIndex().isValid():
            self.view.scrollToBottom()

    def jump_to_end(self) -> None:
        rows = self.model.rowCount()
        if rows:
            self.select_row(0 if self.model.sort_key == NEWEST_FIRST else rows - 1)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def select_position(self, position: int) -> bool:
        """Select the row of `position` if the log shows it."""
        row = self.model.row_of_position(position)
        if row is None:
            return False
        self.select_row(row)
        return True

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index, EventTable.ScrollHint.PositionAtCenter)

    def current_event(self) -> RecordedEvent | None:
        return self.model.event_at(self.view.currentIndex().row())

    def focus_filter(self) -> None:
        self.filters.focus_text()

    def has_focus_within(self) -> bool:
        focus = self.focusWidget()
        return focus is not None and self.isAncestorOf(focus)

    def set_sort(self, sort: SortKey) -> None:
        """Sort the log by a store column (as a header click does)."""
        self._awaiting_first = True
        self.model.set_sort(sort)
        self._check_first_page()

    # -- internals ------------------------------------------------------------------------
    def _setup_sorting(self) -> None:
        header = self.view.horizontalHeader()
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorShown(True)
        self.view.setSortingEnabled(True)  # a header click calls model.sort
        header.sortIndicatorChanged.connect(self._on_header_sort)
        self.model.sig_sort_changed.connect(self._show_sort)

    def _on_header_sort(self, _section: int, _order: Qt.SortOrder) -> None:
        self._show_sort(self.model.sort_key)  # a column the store cannot sort: undo

    def _show_sort(self, sort: SortKey) -> None:
        header = self.view.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(self.model.sort_section(sort), Qt.SortOrder.DescendingOrder
                                if sort.descending else Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)
        self.newest_first.blockSignals(True)
        self.newest_first.setChecked(sort == NEWEST_FIRST)
        self.newest_first.blockSignals(False)
        self._awaiting_first = True
        self._check_first_page()

    def _on_newest_first(self, checked: bool) -> None:
        self.set_sort(NEWEST_FIRST if checked else OLDEST_FIRST)

    def _on_filter_changed(self, flt: EventFilter) -> None:
        if flt == self.model.event_filter:
            return
        self._awaiting_first = True
        self.model.set_filter(flt)
        self._check_first_page()

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = self.model.event_at(current.row(), request=True)
        if event is None and current.isValid():
            self._pending_row = current.row()  # announced when its page arrives
            return
        self._pending_row = None
        self.sig_event_selected.emit(event)

    def _on_page_loaded(self, first: int, last: int) -> None:
        if self._pending_row is not None and first <= self._pending_row <= last:
            row, self._pending_row = self._pending_row, None
            self.sig_event_selected.emit(self.model.event_at(row))
        if self._awaiting_first:
            self._awaiting_first = False
            self.sig_first_page.emit()
        self._update_status()

    def _check_first_page(self) -> None:
        """An empty log has no page to wait for: it is ready at once."""
        if self._awaiting_first and self.model.rowCount() == 0 and not self.model.is_loading():
            self._awaiting_first = False
            self.sig_first_page.emit()

    def _on_failed(self, message: str, _details: str) -> None:
        self.status.setText(f"Could not read the log: {message}")

    def _update_status(self) -> None:
        rows = self.model.rowCount()
        if self._store is None:
            self.status.setText("No store open")
        elif self.model.indexed:
            self.status.setText(f"{rows:,} events")
        elif self.model.event_filter.is_empty:
            more = self.model.canFetchMore(QModelIndex()) or self.model.is_loading()
            self.status.setText(f"{rows:,} events" + (" loaded so far (scroll for more)"
                                                      if more else ""))
        elif self.model.canFetchMore(QModelIndex()) or self.model.is_loading():
            self.status.setText(f"Filtered: {rows:,} matching events loaded so far "
                                "(scroll for more)")
        else:
            self.status.setText(f"Filtered: {rows:,} matching events")
