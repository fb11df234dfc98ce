"""The first-run demo: create a bank store in the user's data folder and seed it through
real commands (`incident_core.operations.demo`), off the UI thread, with a progress dialog.

Seeding writes to `<name>.partial` and renames it when done, so an interrupted first run
is simply redone next time instead of leaving a half-seeded demo behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from incident_core import Application
from incident_core.examples.bank import domain as bank_domain
from incident_core.progress import Progress
from incident_gui.tasks.workers import OperationWorker

__all__ = ["DEMO_ACCOUNTS", "DEMO_SEED", "DEMO_TRANSFERS", "DemoSeeder"]

DEMO_ACCOUNTS = 120
DEMO_TRANSFERS = 1500
DEMO_SEED = 7
_COMPANIONS = ("", "-wal", "-shm")


def _remove(path: Path) -> None:
    for suffix in _COMPANIONS:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class DemoSeeder(QObject):
    """Seeds the demo store once; emits `sig_ready(path)` or `sig_failed(message, details)`."""

    sig_ready = Signal(str)
    sig_failed = Signal(str, str)

    def __init__(self, path: Path, parent: QWidget | None = None, *,
                 accounts: int = DEMO_ACCOUNTS, transfers: int = DEMO_TRANSFERS,
                 seed: int = DEMO_SEED, show_progress: bool = True) -> None:
        super().__init__(parent)
        self._path = path
        self._partial = path.with_name(path.name + ".partial")
        self._sizes = (accounts, transfers, seed)
        self._app: Application | None = None
        self._worker: OperationWorker[object] | None = None
        self._dialog: QProgressDialog | None = None
        if show_progress and parent is not None:
            self._dialog = self._make_dialog(parent)

    def _make_dialog(self, parent: QWidget) -> QProgressDialog:
        dialog = QProgressDialog("Creating the demo bank store…", "Cancel", 0, 1000, parent)
        dialog.setObjectName("demoProgress")
        dialog.setWindowTitle("Incident inspector — first run")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel)
        return dialog

    def start(self) -> None:
        from incident_core.operations.demo import demo

        self._path.parent.mkdir(parents=True, exist_ok=True)
        _remove(self._partial)
        app = self._app = Application.open(str(self._partial), bank_domain, create=True)
        accounts, transfers, seed = self._sizes
        worker = self._worker = OperationWorker(
            lambda: demo(app, accounts=accounts, transfers=transfers, seed=seed))
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(self._on_finished)
        worker.signals.errored.connect(self._on_errored)
        worker.signals.cancelled.connect(self._on_cancelled)
        worker.start()
        if self._dialog is not None:
            self._dialog.show()

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def abort(self) -> None:
        """Window closing: stop seeding now, synchronously, and remove the partial store."""
        worker = self._worker
        if worker is None or not worker.is_running():
            return
        for signal in (worker.signals.finished, worker.signals.errored,
                       worker.signals.cancelled):
            signal.disconnect()
        worker.cancel()
        worker.wait()
        self._finish()
        _remove(self._partial)

    def is_running(self) -> bool:
        return self._worker is not None and self._worker.is_running()

    def _on_progress(self, progress: Progress) -> None:
        if self._dialog is not None:
            self._dialog.setValue(int(progress.fraction * 1000))
            self._dialog.setLabelText(f"Creating the demo bank store… "
                                      f"{progress.done:,} of {progress.total:,} steps")

    def _finish(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None
        if self._dialog is not None:
            self._dialog.reset()
            self._dialog.hide()

    def _on_finished(self, _report: object) -> None:
        self._finish()
        for suffix in _COMPANIONS:
            source = Path(f"{self._partial}{suffix}")
            if source.exists():
                os.replace(source, f"{self._path}{suffix}")
        self.sig_ready.emit(str(self._path))

    def _on_errored(self, message: str, details: str) -> None:
        self._finish()
        _remove(self._partial)
        self.sig_failed.emit(f"Could not create the demo store: {message}", details)

    def _on_cancelled(self) -> None:
        self._finish()
        _remove(self._partial)
        self.sig_failed.emit("Creating the demo store was cancelled.", "")
