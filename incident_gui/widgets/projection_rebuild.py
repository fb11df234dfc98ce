"""Rebuilding projections from the projection panel: the worker, its progress and its end.

`RebuildRunner` runs the core operation `incident_core.operations.rebuild.rebuild` in a
child process (`ChildWorker`: its rows never live in the window's process, and cancelling
it frees nothing here) when the store and domain can be named to one, else in an
`OperationWorker`. It owns the row under the panel's tabs while one runs: a
``rebuildProgress`` bar (events/s and ETA, as long as its width allows) and
``cancelRebuildButton``, and the ``rebuildStatus`` line that says how it ended. The
operation writes only when it finishes, so a cancelled or failed rebuild leaves the
previous rows as they were; `sig_rebuilt` tells the panel to read them again.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from incident_core import Application
from incident_core.operations.rebuild import RebuildReport, rebuild
from incident_core.progress import Progress
from incident_gui.presentation.progress_text import progress_texts
from incident_gui.tasks.child_worker import ChildHome, ChildWorker
from incident_gui.tasks.workers import OperationWorker
from incident_gui.widgets import dialogs
from incident_gui.widgets.command_form import error_color
from incident_gui.widgets.fitting_progress import FittingProgressBar

__all__ = ["PROGRESS_MIN_WIDTH", "RebuildRunner"]

PROGRESS_MIN_WIDTH = 140
RebuildWorker = OperationWorker[RebuildReport] | ChildWorker


class RebuildRunner(QObject):
    """One rebuild at a time, with its progress bar, Cancel and status line."""

    sig_rebuilt = Signal()  # the rows changed: read them again
    sig_running = Signal(bool)  # a rebuild started (True) or ended (False)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._worker: RebuildWorker | None = None
        self._name = ""
        self._rate_start: tuple[float, int] | None = None
        # Narrow enough that showing it does not widen the panel (its texts shorten).
        self.progress = FittingProgressBar(parent)
        self.progress.setObjectName("rebuildProgress")
        self.progress.setMinimumWidth(PROGRESS_MIN_WIDTH)
        self.cancel_button = QPushButton("Cancel", parent)
        self.cancel_button.setObjectName("cancelRebuildButton")
        self.cancel_button.setToolTip("Stop the rebuild; the previous rows are kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.status = QLabel(parent)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # messages quote store text
        self.status.setObjectName("rebuildStatus")
        self.status.setWordWrap(True)
        self._show_running()

    def is_running(self) -> bool:
        return self._worker is not None

    def start(self, app: Application, names: list[str], name: str,
              child: ChildHome | None) -> None:
        """Rebuild `names` of `app` (called `name` in the texts); `child`: where a child
        process can run it (None: a thread of this one)."""
        if self._worker is not None:
            return
        worker: RebuildWorker = (
            OperationWorker(lambda: rebuild(app, names)) if child is None
            else ChildWorker(child.request(names)))
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(lambda report: self._on_rebuilt(worker, report))
        worker.signals.cancelled.connect(lambda: self._on_cancelled(worker))
        worker.signals.errored.connect(
            lambda message, details: self._on_failed(worker, message, details))
        self._worker, self._name, self._rate_start = worker, name, None
        self.progress.setRange(0, 0)  # busy until the first progress arrives
        self.progress.set_texts([f"Rebuilding {name}…", "Rebuilding…"])
        self.set_status("The current rows stay readable until the rebuild finishes.")
        self._show_running()
        worker.start()

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.progress.set_texts([f"Cancelling the rebuild of {self._name}…",
                                     "Cancelling…"])
            self._show_running()

    def forget(self) -> None:
        """Another application: a running rebuild is cancelled, the status cleared."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
            self._show_running()
        self._name = ""
        self.status.clear()

    def set_status(self, text: str, *, error: bool = False, details: str = "") -> None:
        self.status.setText(text)
        self.status.setToolTip(details)
        color = error_color(self.status.palette()).name() if error else ""
        self.status.setStyleSheet(f"color: {color};" if error else "")

    def _show_running(self) -> None:
        running = self._worker is not None
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running and not self._cancel_requested())
        self.sig_running.emit(running)

    def _cancel_requested(self) -> bool:
        return self._worker is not None and self._worker.cancel_requested

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
        self.progress.set_texts(progress_texts(self._name, progress, rate))
        self.progress.setRange(0, total)
        self.progress.setValue(min(progress.done, total))

    def _finished(self, worker: RebuildWorker) -> bool:
        """Forget the worker; False if it was not the current one (a stale signal)."""
        if worker is not self._worker:
            return False
        self._worker = None
        self._show_running()
        return True

    def _on_rebuilt(self, worker: RebuildWorker, report: RebuildReport) -> None:
        if not self._finished(worker):
            return
        rows = sum(p.rows for p in report.projections)
        self.set_status(f"Rebuilt {self._name}: {rows:,} rows from "
                        f"{report.events_read:,} events in {report.seconds:.1f} s.")
        self.sig_rebuilt.emit()

    def _on_cancelled(self, worker: RebuildWorker) -> None:
        if self._finished(worker):
            self.set_status(f"Rebuild of {self._name} cancelled; the previous rows are kept.")

    def _on_failed(self, worker: RebuildWorker, message: str, details: str) -> None:
        if not self._finished(worker):
            return
        self.set_status(f"Rebuild of {self._name} failed: {message} "
                        "The previous rows are kept.", error=True, details=details)
        exc = worker.exception
        parent = self.parent()
        assert isinstance(parent, QWidget)
        if exc is not None and worker.failure_kind != "incident":
            dialogs.show_exception(parent, "Rebuild failed", exc)
        elif exc is None and worker.failure_kind != "incident":  # a child's, as text
            dialogs.show_failure(parent, "Rebuild failed", message, details,
                                 worker.failure_kind)
