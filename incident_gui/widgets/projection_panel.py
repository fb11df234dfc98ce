"""Projections: browse each read model's rows lazily, see its lag, rebuild it from the log.

One tab per projection (``projectionTabs``) with a table ``projection_<name>`` over
`ProjectionRowsModel` (keyset pages of `EventStore.projection_rows`, fetched as the view
scrolls) and a label ``projectionInfo_<name>`` with the row count, checkpoint and lag.

Showing or refreshing a tab reads its first pages, row count, checkpoint and head in an
`OperationWorker` (never on the UI thread); the loaded rows, scroll position and selection
stay until the answer arrives, and a read overtaken by a newer refresh is dropped, so the
table never goes back to rows older than a change it was told about (a rebuild).

Rebuild (``rebuildButton``, Ctrl+R) replays the log into the current tab's projection with
the core operation `incident_core.operations.rebuild.rebuild` in an `OperationWorker`,
showing ``rebuildProgress`` (events/s, ETA) and ``cancelRebuildButton``. The operation
writes only when it finishes, so the table stays readable meanwhile, and a cancelled or
failed rebuild leaves the previous rows as they were. Read-only stores cannot rebuild.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from incident_core import Application, DomainCodeError, IncidentError
from incident_core.operations.rebuild import RebuildReport, rebuild
from incident_core.progress import Progress
from incident_gui.tasks.workers import OperationWorker, call_operation
from incident_gui.widgets import dialogs
from incident_gui.widgets.column_fit import ColumnFitter
from incident_gui.widgets.command_form import error_color
from incident_gui.widgets.command_panel import host_binds_shortcut, panel_shortcut
from incident_gui.widgets.projection_rows import (
    PAGE_SIZE,
    ProjectionRowsModel,
    RowsSnapshot,
    read_snapshot,
)

__all__ = ["PAGE_SIZE", "ProjectionPanel", "ProjectionRowsModel", "format_duration",
           "progress_texts"]

KEEP_LOADED_ROWS = 5000
REBUILD_SHORTCUT = "Ctrl+R"
PROGRESS_MIN_WIDTH = 140


def format_duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `2 h 07 min`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_texts(name: str, progress: Progress, rate: float | None) -> list[str]:
    """What the rebuild progress bar can say, longest first (the bar shows the first that
    fits its width; the longest is its tooltip)."""
    counts = f"{progress.done:,} / {progress.total:,}"
    percent = f"{progress.fraction:.0%}"
    if rate is None:
        return [f"Rebuilding {name}: {counts} events", f"{name}: {counts}", counts, percent]
    eta = format_duration((progress.total - progress.done) / rate)
    return [f"Rebuilding {name}: {counts} events · {rate:,.0f} events/s · ETA {eta}",
            f"{name}: {counts} · {rate:,.0f}/s · ETA {eta}",
            f"{counts} · ETA {eta}", f"{percent} · ETA {eta}", percent]


class _ProjectionTab(QWidget):
    def __init__(self, app: Application, name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.app = app
        self.name = name
        self.model = ProjectionRowsModel(app.store, app.projection(name).spec)
        self.stale = True
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
        store, spec = self.app.store, self.model.spec
        pages = -(-min(max(self.model.rowCount(), 1), KEEP_LOADED_ROWS) // PAGE_SIZE)
        sort = self.model.sort_key
        reader: OperationWorker[RowsSnapshot] = OperationWorker(
            lambda: call_operation(lambda: read_snapshot(store, spec, pages * PAGE_SIZE,
                                                         sort=sort)))
        reader.signals.finished.connect(self._on_read)
        reader.signals.errored.connect(self._on_read_failed)
        reader.signals.cancelled.connect(self._on_read_cancelled)
        self._reader = reader
        self.model.set_loading(True)
        reader.start()

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


class ProjectionPanel(QWidget):
    """The projections of the open application, with rebuild."""

    sig_context_menu = Signal(object, QPoint)  # the tab, the position in its view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("projectionPanel")
        self._app: Application | None = None
        self._read_only = False
        self._worker: OperationWorker[RebuildReport] | None = None
        self._rebuilding = ""
        self._rate_start: tuple[float, int] | None = None
        self._build()
        self._update_controls()

    def _build(self) -> None:
        self._tabs = QTabWidget(self)
        self._tabs.setObjectName("projectionTabs")
        self._tabs.setDocumentMode(True)
        self._tabs.currentChanged.connect(self._on_tab_changed)
        self._empty = QLabel("No projections: open a store with a domain that defines some.",
                             self)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._progress = QProgressBar(self)
        self._progress.setObjectName("rebuildProgress")
        self._progress.setTextVisible(True)
        # Narrow enough that showing it does not widen the panel (progress_texts shortens).
        self._progress.setMinimumWidth(PROGRESS_MIN_WIDTH)
        self._cancel = QPushButton("Cancel", self)
        self._cancel.setObjectName("cancelRebuildButton")
        self._cancel.setToolTip("Stop the rebuild; the previous rows are kept")
        self._cancel.clicked.connect(self.cancel_rebuild)
        self._status = QLabel(self)
        self._status.setTextFormat(Qt.TextFormat.PlainText)  # messages quote store text
        self._status.setObjectName("rebuildStatus")
        self._status.setWordWrap(True)
        self._refresh_button = QPushButton("Reload", self)
        self._refresh_button.setObjectName("refreshProjectionsButton")
        self._refresh_button.setToolTip("Read the rows, checkpoints and head again")
        self._refresh_button.clicked.connect(self.refresh)
        self._rebuild_button = QPushButton("Rebuild", self)
        self._rebuild_button.setObjectName("rebuildButton")
        self._rebuild_button.clicked.connect(self.rebuild_current)
        self._shortcut = panel_shortcut(self, REBUILD_SHORTCUT, self.rebuild_current)
        running = QHBoxLayout()
        running.addWidget(self._progress, 1)
        running.addWidget(self._cancel)
        bar = QHBoxLayout()
        bar.addWidget(self._status, 1)
        bar.addWidget(self._refresh_button)
        bar.addWidget(self._rebuild_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._tabs, 1)
        layout.addWidget(self._empty, 1)
        layout.addLayout(running)
        layout.addLayout(bar)

    def showEvent(self, event: QShowEvent) -> None:
        self._shortcut.setEnabled(not host_binds_shortcut(self, self._shortcut.key()))
        super().showEvent(event)

    # -- public API ---------------------------------------------------------------------
    def set_application(self, app: Application | None) -> None:
        """Show the projections of `app` (None: nothing open). A running rebuild of the
        previous application is cancelled."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self._rebuilding = ""
        self._app = app
        self._status.clear()
        self._tabs.blockSignals(True)
        while self._tabs.count():
            page = self._tab(0)
            self._tabs.removeTab(0)
            page.setParent(None)
            page.deleteLater()
        if app is not None:
            for name in app.domain.projections:
                tab = _ProjectionTab(app, name, self._tabs)
                tab.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
                tab.view.customContextMenuRequested.connect(
                    lambda pos, t=tab: self.sig_context_menu.emit(t, pos))
                self._tabs.addTab(tab, name)
        self._tabs.blockSignals(False)
        self._empty.setVisible(app is not None and self._tabs.count() == 0)
        self._tabs.setVisible(self._tabs.count() > 0)
        self.refresh()

    def set_read_only(self, read_only: bool) -> None:
        """Read-only stores show projections but cannot rebuild them."""
        self._read_only = read_only
        self._update_controls()

    def refresh(self) -> None:
        """Reload the current tab now and the others when they are shown (call it when
        the store changed)."""
        for index in range(self._tabs.count()):
            self._tab(index).stale = True
        self._on_tab_changed(self._tabs.currentIndex())
        self._update_controls()

    def current_tab(self) -> _ProjectionTab | None:
        index = self._tabs.currentIndex()
        return None if index < 0 else self._tab(index)

    def current_projection(self) -> str | None:
        index = self._tabs.currentIndex()
        return self._tab(index).name if index >= 0 else None

    def select_projection(self, name: str) -> None:
        for index in range(self._tabs.count()):
            if self._tab(index).name == name:
                self._tabs.setCurrentIndex(index)

    def is_rebuilding(self) -> bool:
        return self._worker is not None

    def is_loading(self) -> bool:
        """Whether a tab is still reading its rows (its answer not yet shown)."""
        return any(self._tab(index).is_reading() for index in range(self._tabs.count()))

    # -- tabs ---------------------------------------------------------------------------
    def _tab(self, index: int) -> _ProjectionTab:
        page = self._tabs.widget(index)
        assert isinstance(page, _ProjectionTab)
        return page

    def _on_tab_changed(self, index: int) -> None:
        if index >= 0 and self._tab(index).stale:
            self._tab(index).reload()
        self._update_controls()

    def _update_controls(self) -> None:
        running = self._worker is not None
        can = self._app is not None and self._tabs.count() > 0 and not self._read_only
        self._rebuild_button.setEnabled(can and not running)
        self._rebuild_button.setToolTip(
            "The store is open read-only: projections cannot be rebuilt" if self._read_only
            else f"Replay the log into the shown projection ({REBUILD_SHORTCUT})")
        self._refresh_button.setEnabled(self._app is not None)
        self._progress.setVisible(running)
        self._cancel.setVisible(running)
        self._cancel.setEnabled(running and not self._worker_cancel_requested())

    def _worker_cancel_requested(self) -> bool:
        return self._worker is not None and self._worker.cancel_requested

    # -- rebuild ------------------------------------------------------------------------
    def rebuild_current(self) -> None:
        """Rebuild the projection of the current tab in a worker thread."""
        name = self.current_projection()
        if name is not None:
            self._start_rebuild([name], name)

    def rebuild_all(self) -> None:
        """Rebuild every projection in one pass over the log, with one progress."""
        names = list(self._app.domain.projections) if self._app is not None else []
        if names:
            self._start_rebuild(names, "all projections" if len(names) > 1 else names[0])

    def _start_rebuild(self, names: list[str], name: str) -> None:
        app = self._app
        if app is None or self._read_only or self._worker is not None:
            return
        worker: OperationWorker[RebuildReport] = OperationWorker(lambda: rebuild(app, names))
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(lambda report: self._on_rebuilt(worker, report))
        worker.signals.cancelled.connect(lambda: self._on_cancelled(worker))
        worker.signals.errored.connect(
            lambda message, details: self._on_failed(worker, message, details))
        self._worker, self._rebuilding, self._rate_start = worker, name, None
        self._progress.setRange(0, 0)  # busy until the first progress arrives
        self._progress.setFormat(f"Rebuilding {name}…")
        self._set_status("The current rows stay readable until the rebuild finishes.")
        self._update_controls()
        worker.start()

    def cancel_rebuild(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._progress.setFormat(f"Cancelling the rebuild of {self._rebuilding}…")
            self._update_controls()

    def _on_progress(self, progress: Progress) -> None:
        if self._worker is None or self._worker.cancel_requested:
            return
        now = time.monotonic()
        if self._rate_start is None:
            self._rate_start = (now, progress.done)
        started, first = self._rate_start
        total = max(progress.total, 1)
        elapsed, done = now - started, progress.done - first
        rate = done / elapsed if elapsed > 0.2 and done > 0 else None
        texts = progress_texts(self._rebuilding, progress, rate)
        self._progress.setToolTip(texts[0])
        room = self._progress.contentsRect().width() - 2 * self.fontMetrics().averageCharWidth()
        fits = [t for t in texts if self._progress.fontMetrics().horizontalAdvance(t) <= room]
        self._progress.setFormat((fits or texts)[0])
        self._progress.setRange(0, total)
        self._progress.setValue(min(progress.done, total))

    def _finished(self, worker: OperationWorker[RebuildReport]) -> bool:
        """Forget the worker; False if it was not the current one (a stale signal)."""
        if worker is not self._worker:
            return False
        self._worker = None
        self._update_controls()
        return True

    def _on_rebuilt(self, worker: OperationWorker[RebuildReport], report: RebuildReport) -> None:
        if not self._finished(worker):
            return
        rows = sum(p.rows for p in report.projections)
        self._set_status(f"Rebuilt {self._rebuilding}: {rows:,} rows from "
                         f"{report.events_read:,} events in {report.seconds:.1f} s.")
        self.refresh()

    def _on_cancelled(self, worker: OperationWorker[RebuildReport]) -> None:
        if self._finished(worker):
            self._set_status(f"Rebuild of {self._rebuilding} cancelled; "
                             "the previous rows are kept.")

    def _on_failed(self, worker: OperationWorker[RebuildReport], message: str,
                   details: str) -> None:
        if not self._finished(worker):
            return
        self._set_status(f"Rebuild of {self._rebuilding} failed: {message} "
                         "The previous rows are kept.", error=True, details=details)
        exc = worker.exception
        if exc is not None and (isinstance(exc, DomainCodeError)
                                or not isinstance(exc, IncidentError)):
            dialogs.show_exception(self, "Rebuild failed", exc)

    def _set_status(self, text: str, *, error: bool = False, details: str = "") -> None:
        self._status.setText(text)
        self._status.setToolTip(details)
        color = error_color(self.palette()).name() if error else ""
        self._status.setStyleSheet(f"color: {color};" if error else "")
