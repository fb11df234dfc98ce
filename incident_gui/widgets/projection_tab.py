"""One projection's tab of the projections panel: its rows in a lazily paged table and a
line with the row count, checkpoint and lag (or, as of a past position, how the rows were
made). Every read runs on its own worker (`incident_gui.tasks.workers.run_operation`), whose
answer reaches only this tab; see `projection_panel`."""

from __future__ import annotations

from collections.abc import Callable, Generator

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableView, QVBoxLayout, QWidget

from incident_core import Application
from incident_core.progress import Progress
from incident_gui.tasks.workers import OperationWorker, call_operation, run_operation
from incident_gui.widgets.column_fit import ColumnFitter
from incident_gui.widgets.command_form import error_color
from incident_gui.widgets.projection_past import PastRows, read_as_of
from incident_gui.widgets.projection_rows import (
    PAGE_SIZE,
    ProjectionRowsModel,
    RowsSnapshot,
    read_snapshot,
)

__all__ = ["KEEP_LOADED_ROWS", "ProjectionTab"]

KEEP_LOADED_ROWS = 5000


class ProjectionTab(QWidget):
    """One projection's rows (now, or as of `as_of`), read off the UI thread."""

    def __init__(self, app: Application, name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.app = app
        self.name = name
        self.model = ProjectionRowsModel(app.store, app.projection(name).spec)
        self.stale = True
        self.as_of: int | None = None  # the past position shown (None: now)
        self._reader: OperationWorker[RowsSnapshot] | None = None
        self._read_again = False
        self._sized = False
        self.info = QLabel("Reading…", self)
        self.info.setObjectName(f"projectionInfo_{name}")
        # The text arrives after the first paint: it wraps rather than widen the panel (a
        # wider panel lays out and repaints the whole window, a long stall).
        self.info.setWordWrap(True)
        self.view = QTableView(self)
        self.view.setObjectName(f"projection_{name}")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setDefaultSectionSize(
            self.view.fontMetrics().height() + 8)
        self.view.horizontalHeader().setStretchLastSection(True)
        # Size columns from the first rows only: measuring a whole page stalls the UI.
        self.view.horizontalHeader().setResizeContentsPrecision(50)
        # The store sorts by a clicked column (keyset pages); key order to begin with.
        header = self.view.horizontalHeader()
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._on_header_clicked)
        self.model.sig_sort_requested.connect(self._on_sort_requested)
        spec = self.model.spec
        self.fitter = ColumnFitter(self.view, numeric=[
            n for n, c in enumerate(spec.columns) if c.kind in ("integer", "float")],
            watch_inserts=False)  # live values arrive as a fresh read (a reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.info)
        layout.addWidget(self.view, 1)

    def is_reading(self) -> bool:
        return self._reader is not None

    def reload(self) -> None:
        """Read the rows again off the UI thread, as many as are loaded (whole pages, up
        to KEEP_LOADED_ROWS); a reload asked for while one runs reads again afterwards."""
        self.stale = False
        if self._reader is not None:
            self._read_again = True
            return
        if self.as_of is not None:
            self.info.setText(f"Reading the rows as of position #{self.as_of:,}…")
        self.model.set_loading(True)
        self._reader = run_operation(self._read_call(), done=self._on_read,
                                     failed=self._on_read_failed,
                                     cancelled=self._on_read_cancelled)

    def _read_call(self) -> Callable[[], Generator[Progress, None, RowsSnapshot]]:
        """The read a reload runs in its worker: the rows now, or as of the past."""
        app, name, spec, sort, as_of = (self.app, self.name, self.model.spec,
                                        self.model.sort_key, self.as_of)
        if as_of is not None:
            return lambda: call_operation(lambda: read_as_of(app, name, as_of, sort))
        pages = -(-min(max(self.model.rowCount(), 1), KEEP_LOADED_ROWS) // PAGE_SIZE)
        return lambda: call_operation(lambda: read_snapshot(app.store, spec,
                                                            pages * PAGE_SIZE, sort=sort))

    def _on_header_clicked(self, section: int) -> None:
        """Sort by the clicked column; a second click on it reverses the order."""
        current, order = self.model.sort_section()
        flip = current == section and order == Qt.SortOrder.AscendingOrder
        order = Qt.SortOrder.DescendingOrder if flip else Qt.SortOrder.AscendingOrder
        header = self.view.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.setSortIndicator(section, order)
        self.model.sort(section, order)

    def _on_sort_requested(self, _sort: object) -> None:
        """Read the first page again in the new order (from the top)."""
        self.model.clear()
        self.reload()

    def _read_ended(self) -> bool:
        """Forget the reader; False if a newer read was asked for (then it is started)."""
        self._reader = None
        self.model.set_loading(False)
        if self._read_again:
            self._read_again = False
            self.reload()
            return False
        return True

    def _on_read(self, snapshot: RowsSnapshot) -> None:
        if self._read_ended():
            self._show(snapshot)

    def _on_read_failed(self, message: str, details: str) -> None:
        if self._read_ended():
            self.info.setText(f"Could not read {self.name}: {message}")
            self.info.setToolTip(details)
            self.info.setStyleSheet(f"color: {error_color(self.palette()).name()};")

    def _on_read_cancelled(self) -> None:
        self._reader = None
        self._read_again = False
        self.model.set_loading(False)
        self.stale = True

    def _show(self, snapshot: RowsSnapshot) -> None:
        """Show the rows read, keeping the scroll position and the selected row, so live
        refreshes do not jump."""
        scroll = self.view.verticalScrollBar().value()
        selected = self._selected_key()
        self.model.apply(snapshot)
        if not self._sized and snapshot.rows:
            self._sized = True
            self.view.resizeColumnsToContents()
        if selected is not None:
            self._select_key(selected)
        self.view.verticalScrollBar().setValue(scroll)
        self.fitter.fit_visible()
        self._describe(snapshot)

    def _selected_key(self) -> str | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        return str(self.model.row(rows[0].row())[self.model.spec.key])

    def _select_key(self, key: str) -> None:
        for number in range(self.model.rowCount()):
            if str(self.model.row(number)[self.model.spec.key]) == key:
                self.view.selectRow(number)
                return

    def _describe(self, snapshot: RowsSnapshot) -> None:
        if isinstance(snapshot, PastRows):
            self.info.setText(snapshot.describe())
            self.info.setToolTip("Rows folded from the log up to that position; "
                                 "press Now (toolbar) to see the present")
            self.info.setStyleSheet("")
            return
        rows, checkpoint = snapshot.total, snapshot.checkpoint
        parts = [f"{rows:,} row{'s' if rows != 1 else ''}"]
        if checkpoint is None:
            parts.append("never built")
        else:
            lag = snapshot.head - checkpoint
            parts += [f"checkpoint #{checkpoint:,}", f"head #{snapshot.head:,}",
                      "up to date" if lag <= 0 else f"{lag:,} events behind"]
        self.info.setText(" · ".join(parts))
        self.info.setToolTip("")
        self.info.setStyleSheet("")
