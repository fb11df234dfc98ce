"""The streams panel: every aggregate with its type, version, event count and last time.

`show_as_of(position)` lists the streams as they stood after a past position (ordered by
aggregate id; the filters still apply; live changes wait), `show_as_of(None)` returns to
the present in the order chosen before.

Nothing here reads the store on the UI thread: the list and the aggregate types are read
on the panel's loader lane (the first page of a store comes with its open), and
`select_aggregate` of a stream not loaded yet looks it up there, then loads pages until
it shows up, and selects it when it does."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from incident_core import EventStore, StreamInfo
from incident_gui.models.streams_model import (
    ID_ORDER,
    LAST_ACTIVITY,
    FirstStreams,
    StreamsModel,
)
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane, Requests
from incident_gui.widgets.column_fit import ColumnFitter
from incident_gui.widgets.elided_label import ElidedLabel
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
        self._types_read = Requests(self._loader)
        self._seek = Requests(self._loader)  # a stream to select, not loaded yet
        self._wanted: tuple[StreamInfo, int] | None = None  # it, and pages left to load
        self._counter = QueryLane("streamsCounter", self)  # counts: never before a page
        self.model = StreamsModel(self, loader=self._loader, counter=self._counter)
        self.filter_edit = named(QLineEdit(), "streamFilter")
        self.filter_edit.setPlaceholderText("Filter aggregates: text or glob (acc-*)")
        self.filter_edit.setClearButtonEnabled(True)
        self.type_combo = named(QComboBox(), "streamTypeCombo")
        self.type_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        # plain text (errors quote store text), elided: a longer count never widens the
        # panel (that re-laid out the whole window at each move in time)
        self.count_label = named(ElidedLabel(), "streamCount")
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
        self.model.sig_loaded.connect(self._seek_step)
        self.model.modelAboutToBeReset.connect(self._forget_seek)
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
    def set_store(self, store: EventStore | None, first: FirstStreams | None = None) -> None:
        """Show `store`'s streams; `first` (read with the open) is shown at once."""
        self._store = store
        if first is not None:
            self._fill_types(first.aggregate_types)
        else:
            self._read_types()
        self.model.set_filter(self.filter_edit.text().strip(), self._aggregate_type(),
                              reload=False)  # set_store reads
        self.model.set_store(store, first)  # another store starts in the present
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
        """Reload from the store, keeping the filter and the selection (selected again
        when its page arrives)."""
        self._reselect = self.selected_aggregate()
        self._read_types()
        self.model.reload()
        self._select_again()

    def when_listed(self, then: Callable[[], None]) -> None:
        """Run `then` once the list shows what it is reading (now, if it is not reading)."""
        if not self.model.is_loading():
            then()
            return

        def once() -> None:
            self.model.sig_loaded.disconnect(once)
            then()
        self.model.sig_loaded.connect(once)

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def selected_aggregate(self) -> str | None:
        info = self.model.info_at(self.view.currentIndex().row())
        return None if info is None else info.aggregate_id

    def select_aggregate(self, aggregate_id: str, *, max_pages: int = 20) -> bool:
        """Select a stream; True if it is loaded and selected now. One not loaded yet is
        read off the UI thread (where it sorts), then pages are loaded until it shows up
        (at most `max_pages`) and it is selected then; False meanwhile, and if it is not
        listed (filtered out, or no such stream)."""
        row = self.model.row_of(aggregate_id)
        self._forget_seek()
        if row is not None:
            self._select(row)
            return True
        store = self._store
        if store is None or not (self.model.is_loading()
                                 or self.model.canFetchMore(QModelIndex())):
            return False
        self._seek.submit(lambda: store.stream(aggregate_id),
                          lambda info: self._seek_from(info, max_pages), self._seek_failed)
        return False

    def seeking(self) -> bool:
        """A stream asked for by `select_aggregate` is still being looked for."""
        return self._seek.busy() or self._wanted is not None

    def _seek_from(self, info: StreamInfo | None, pages: int) -> None:
        if info is not None:
            self._wanted = (info, pages)
            self._seek_step()

    def _seek_step(self) -> None:
        """The next step towards the stream wanted: select it, load a page, or give up."""
        if self._wanted is None or self.model.is_loading():
            return  # a page is on its way: its arrival calls this again
        info, pages = self._wanted
        row = self.model.row_of(info.aggregate_id)
        if row is not None or pages <= 0 or self.model.loaded_past(info) \
                or not self.model.canFetchMore(QModelIndex()):
            self._wanted = None
            if row is not None:
                self._select(row)
            return
        self._wanted = (info, pages - 1)
        self.model.fetchMore(QModelIndex())
        if not self.model.is_loading():  # a bare model read it here
            self._seek_step()

    def _seek_failed(self, message: str, _details: str) -> None:
        self.count_label.setText(f"Could not find the stream: {message}")

    def _forget_seek(self) -> None:
        self._seek.reset()
        self._wanted = None

    def _select(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)

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
        known = set(self._types())
        if {info.aggregate_type for info in infos} - known:  # new types: no read needed
            self._fill_types(sorted(known | {info.aggregate_type for info in infos}))

    # -- internals ----------------------------------------------------------------------
    def _types(self) -> list[str]:
        return [self.type_combo.itemText(i) for i in range(1, self.type_combo.count())]

    def _aggregate_type(self) -> str | None:
        return None if self.type_combo.currentIndex() <= 0 else self.type_combo.currentText()

    def _read_types(self) -> None:
        """The aggregate types of the store, read on the loader (kept until they arrive)."""
        self._types_read.reset()
        store = self._store
        if store is None:
            self._fill_types([])
            return
        self._types_read.submit(store.aggregate_types, self._fill_types,
                                lambda _message, _details: None)  # the list says why

    def _fill_types(self, types: list[str]) -> None:
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
        self._counter.stop()

    def _on_failed(self, message: str) -> None:
        self.count_label.setText(f"Could not list the streams: {message}")

    def _reading(self) -> str:
        """What the list says while it reads (a store just opened: its first page)."""
        as_of = self.model.as_of
        if as_of is not None:
            return f"Reading the streams as of position {as_of:,}…"
        if self.filter_edit.text().strip():
            return "Filtering…"
        return "Sorting…" if self.model.sort_key != LAST_ACTIVITY else "Reading the streams…"

    def _update_count(self) -> None:
        if self.model.is_loading():
            self.count_label.setText(self._reading())
            return
        total = self.model.total
        shown = self.model.rowCount()
        if not self.model.counted:
            self.count_label.setText(f"{shown:,} streams loaded, counting…")
            return
        noun = "stream" if total == 1 else "streams"
        text = f"{total:,} {noun}"
        if self.model.as_of is not None:
            text += f" as of position {self.model.as_of:,}"
        if shown < total:
            text += f" ({shown:,} loaded)"
        self.count_label.setText(text)
