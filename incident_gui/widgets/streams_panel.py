"""The streams panel: every aggregate with its type, version, event count and last time.

`show_as_of(position)` lists the streams as they stood after a past position (ordered by
aggregate id; the filters still apply; live changes wait), `show_as_of(None)` returns to
the present in the order chosen before."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from incident_core import EventStore, StreamInfo
from incident_gui.models.streams_model import ID_ORDER, LAST_ACTIVITY, StreamsModel
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane
from incident_gui.widgets.column_fit import ColumnFitter
from incident_gui.widgets.event_table import RowTable

__all__ = ["StreamsPanel"]

FILTER_DELAY_MS = 250
ALL_TYPES = "All types"


class StreamsPanel(QWidget):
    """A filter box, an aggregate-type choice and the lazily loaded list of streams."""

    sig_stream_selected = Signal(object)  # aggregate id (str) or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("streamsPanel")
        self._store: EventStore | None = None
        self._loader = QueryLane("streamsLoader", self)
        self.model = StreamsModel(self, loader=self._loader)
        self.filter_edit = named(QLineEdit(), "streamFilter")
        self.filter_edit.setPlaceholderText("Filter aggregates: text or glob (acc-*)")
        self.filter_edit.setClearButtonEnabled(True)
        self.type_combo = named(QComboBox(), "streamTypeCombo")
        self.type_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.count_label = named(QLabel(), "streamCount")
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)  # errors quote store text
        self.view = RowTable()
        self.view.setObjectName("streamList")
        self._setup_view()
        self._debounce = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._debounce.timeout.connect(self._apply_filter)
        self.filter_edit.textChanged.connect(self._debounce.start)
        self.filter_edit.returnPressed.connect(self._apply_filter)
        self.type_combo.currentIndexChanged.connect(self._apply_filter)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        for signal in (self.model.modelReset, self.model.rowsInserted, self.model.sig_loaded):
            signal.connect(self._update_count)
        self.model.sig_failed.connect(self._on_failed)
        self._reselect: str | None = None  # kept across a move in time, selected on load
        self.model.sig_loaded.connect(self._select_again)
        self._layout()

    def _setup_view(self) -> None:
        view = self.view
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setAlternatingRowColors(True)
        view.setShowGrid(False)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # ids differ at both ends
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        width = view.fontMetrics().horizontalAdvance
        for column, sample in enumerate(("acc-missing-00000", "Transfer", "Version",
                                         "Events")):
            view.setColumnWidth(column, width(sample) + 24)
        # The store sorts: a header click reloads in that order (last activity first).
        header.setSortIndicator(self.model.sort_section(LAST_ACTIVITY),
                                Qt.SortOrder.DescendingOrder)
        header.setSortIndicatorShown(True)
        view.setSortingEnabled(True)
        self.fitter = ColumnFitter(view, numeric=(2, 3), columns=(1, 2, 3))

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.type_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)

    # -- public API ---------------------------------------------------------------------
    def set_store(self, store: EventStore | None) -> None:
        self._store = store
        self._fill_types()
        self.model.set_filter(self.filter_edit.text().strip(), self._aggregate_type())
        self.model.set_store(store)  # another store starts in the present
        self._live_header()

    def show_as_of(self, position: int | None) -> None:
        """List the streams as of `position` (None: now), keeping the filters."""
        header = self.view.horizontalHeader()
        self._reselect = self.selected_aggregate()
        if position is not None:
            self.view.setSortingEnabled(False)  # the past is listed by aggregate id
            header.setSortIndicator(self.model.sort_section(ID_ORDER),
                                    Qt.SortOrder.AscendingOrder)
            header.setToolTip(f"As of position {position:,}: listed by aggregate id")
            self.model.set_as_of(position)
            return
        self.model.set_as_of(None)
        self._live_header()
        self._select_again()

    def _select_again(self) -> None:
        """After a move in time, the stream selected before (once its page is there)."""
        if self._reselect is not None and not self.model.is_loading():
            aggregate_id, self._reselect = self._reselect, None
            self.select_aggregate(aggregate_id)

    def _live_header(self) -> None:
        """The header of the present: sortable, showing the chosen order."""
        if self.view.isSortingEnabled():
            return
        header, sort = self.view.horizontalHeader(), self.model.sort_key
        header.setSortIndicator(self.model.sort_section(sort), Qt.SortOrder.DescendingOrder
                                if sort.descending else Qt.SortOrder.AscendingOrder)
        header.setToolTip("")
        self.view.setSortingEnabled(True)

    def refresh(self) -> None:
        """Reload from the store, keeping the filter and (if still loaded) the selection."""
        selected = self.selected_aggregate()
        self._fill_types()
        self.model.reload()
        if selected is not None:
            self.select_aggregate(selected)

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def selected_aggregate(self) -> str | None:
        info = self.model.info_at(self.view.currentIndex().row())
        return None if info is None else info.aggregate_id

    def select_aggregate(self, aggregate_id: str, *, max_pages: int = 20) -> bool:
        """Select a stream, loading pages until it shows up; False if it is not listed."""
        row = self.model.row_of(aggregate_id)
        target = None if row is not None or self._store is None else \
            self._store.stream(aggregate_id)
        for _page in range(max_pages):
            passed = target is None or self.model.loaded_past(target)
            if row is not None or passed or not self.model.canFetchMore(QModelIndex()):
                break
            self.model.fetchMore(QModelIndex())
            row = self.model.row_of(aggregate_id)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)
        return True

    def clear_selection(self) -> None:
        """Select nothing, quietly (the timeline shows a stream this list does not)."""
        selection = self.view.selectionModel()
        selection.blockSignals(True)
        selection.clear()
        selection.blockSignals(False)
        self.view.viewport().update()

    def select_row(self, row: int) -> None:
        """Select a loaded row (nothing happens when there is no such row)."""
        if 0 <= row < self.model.rowCount():
            index = self.model.index(row, 0)
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)

    def apply_changes(self, infos: Iterable[StreamInfo], new_ids: set[str]) -> None:
        infos = list(infos)
        self.model.apply_changes(infos, new_ids)
        if {info.aggregate_type for info in infos} - set(self._types()):
            self._fill_types()

    # -- internals ----------------------------------------------------------------------
    def _types(self) -> list[str]:
        return [self.type_combo.itemText(i) for i in range(1, self.type_combo.count())]

    def _aggregate_type(self) -> str | None:
        return None if self.type_combo.currentIndex() <= 0 else self.type_combo.currentText()

    def _fill_types(self) -> None:
        types = [] if self._store is None else self._store.aggregate_types()
        if types == self._types():
            return
        current = self._aggregate_type()
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        self.type_combo.addItem(ALL_TYPES)
        self.type_combo.addItems(types)
        self.type_combo.setCurrentIndex(types.index(current) + 1 if current in types else 0)
        self.type_combo.blockSignals(False)

    def _apply_filter(self) -> None:
        self._debounce.stop()
        pattern = self.filter_edit.text().strip()
        self.model.set_filter(pattern, self._aggregate_type())
        self.sig_stream_selected.emit(None)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        info = self.model.info_at(current.row())
        self.sig_stream_selected.emit(None if info is None else info.aggregate_id)

    def stop(self) -> None:
        """End the reader thread (the window calls this when it shuts down)."""
        self._loader.stop()

    def _on_failed(self, message: str) -> None:
        self.count_label.setText(f"Could not list the streams: {message}")

    def _update_count(self) -> None:
        if self.model.is_loading():
            as_of = self.model.as_of
            self.count_label.setText(
                f"Reading the streams as of position {as_of:,}…" if as_of is not None
                else "Filtering…" if self.filter_edit.text().strip() else "Sorting…")
            return
        total = self.model.total
        shown = self.model.rowCount()
        noun = "stream" if total == 1 else "streams"
        text = f"{total:,} {noun}"
        if self.model.as_of is not None:
            text += f" as of position {self.model.as_of:,}"
        if shown < total:
            text += f" ({shown:,} loaded)"
        self.count_label.setText(text)
