"""The first-run demo: create a bank store in the user's data folder and seed it through
real commands (`incident_core.operations.demo`), off the UI thread, with a progress dialog.

Seeding writes to `<name>.partial` and renames it when done, so an interrupted first run
is simply redone next time instead of leaving a half-seeded demo behind.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from incident_core import Application
from incident_core.examples.bank import domain as bank_domain
from incident_core.progress import Progress
from incident_gui.tasks.workers import OperationWorker, run_operation

__all__ = ["DEMO_ACCOUNTS", "DEMO_SEED", "DEMO_TRANSFERS", "DemoSeeder"]

DEMO_ACCOUNTS = 120
DEMO_TRANSFERS = 1500
DEMO_SEED = 7
_COMPANIONS = ("", "-wal", "-shm")


def _remove(path: Path) -> None:
    for suffix in _COMPANIONS:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def seed_demo(path: Path, accounts: int, transfers: int, seed: int
              ) -> Generator[Progress, None, str]:
    """The whole first run as one operation (on a worker): create `<path>.partial`, seed
    it, close it and move it into place; if it fails or is cancelled, nothing is left."""
    from incident_core.operations.demo import demo

    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove(partial)
    try:
        app = Application.open(str(partial), bank_domain, create=True)
        try:
            yield from demo(app, accounts=accounts, transfers=transfers, seed=seed)
        finally:
            app.close()
    except BaseException:  # failed, or cancelled (GeneratorExit): no half-seeded demo
        _remove(partial)
        raise
    for suffix in _COMPANIONS:
        source = Path(f"{partial}{suffix}")
        if source.exists():
            os.replace(source, f"{path}{suffix}")
    return str(path)


class DemoSeeder(QObject):
    """Seeds the demo store once; emits `sig_ready(path)` or `sig_failed(message, details)`."""

    sig_ready = Signal(str)
    sig_failed = Signal(str, str)

    def __init__(self, path: Path, parent: QWidget | None = None, *,
                 accounts: int = DEMO_ACCOUNTS, transfers: int = DEMO_TRANSFERS,
                 seed: int = DEMO_SEED, show_progress: bool = True) -> None:
        super().__init__(parent)
        self._path = path
        self._sizes = (accounts, transfers, seed)
        self._worker: OperationWorker[str] | None = None
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
        accounts, transfers, seed = self._sizes
        path = self._path
        self._worker = run_operation(
            lambda: seed_demo(path, accounts, transfers, seed), done=self._on_finished,
            failed=self._on_errored, progress=self._on_progress, cancelled=self._on_cancelled)
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

    def is_running(self) -> bool:
        return self._worker is not None and self._worker.is_running()

    def _on_progress(self, progress: Progress) -> None:
        if self._dialog is not None:
            self._dialog.setValue(int(progress.fraction * 1000))
            self._dialog.setLabelText(f"Creating the demo bank store… "
                                      f"{progress.done:,} of {progress.total:,} steps")

    def _finish(self) -> None:
        if self._dialog is not None:
            self._dialog.reset()
            self._dialog.hide()

    def _on_finished(self, path: str) -> None:
        self._finish()
        self.sig_ready.emit(path)

    def _on_errored(self, message: str, details: str) -> None:
        self._finish()
        self.sig_failed.emit(f"Could not create the demo store: {message}", details)

    def _on_cancelled(self) -> None:
        self._finish()
        self.sig_failed.emit("Creating the demo store was cancelled.", "")
