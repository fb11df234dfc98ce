"""Exports off the UI thread: ask where, run the core's export generator on an
`OperationWorker`, show its progress in the status bar, say where the file went.

The export itself is `incident_core.operations.export_view` (plain generators, no Qt).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QProgressBar, QStatusBar, QWidget

from incident_core.progress import Operation, Progress
from incident_gui.presentation import file_dialogs
from incident_gui.presentation.naming import named
from incident_gui.tasks.workers import OperationWorker

__all__ = ["FILE_FILTERS", "ExportRunner"]

FILE_FILTERS = {"ndjson": "NDJSON (*.ndjson *.jsonl)", "csv": "CSV (*.csv)"}
MESSAGE_MS = 8000


class ExportRunner:
    """Runs one export at a time, with a progress bar in `status_bar`."""

    def __init__(self, parent: QWidget, status_bar: QStatusBar,
                 folder: Callable[[], Path]) -> None:
        self._parent = parent
        self._status = status_bar
        self._folder = folder
        self._worker: OperationWorker[int] | None = None
        self._target: Path | None = None
        self._noun = "rows"
        self.bar = named(QProgressBar(), "exportProgress")
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(True)
        self.bar.hide()
        status_bar.addPermanentWidget(self.bar)

    def is_running(self) -> bool:
        return self._worker is not None

    def ask_path(self, title: str, name: str, fmt: str) -> Path | None:
        """The file to write (a save dialog opening in the store's folder)."""
        start = str(self._folder() / f"{name}.{fmt}")
        path, _chosen = file_dialogs.get_save_file_name(self._parent, title, start,
                                                        FILE_FILTERS[fmt])
        if not path:
            return None
        target = Path(path)
        return target if target.suffix else target.with_suffix(f".{fmt}")

    def start(self, target: Path, noun: str, operation: Callable[[], Operation[int]]) -> bool:
        """Run `operation` (a factory of an export generator) writing `target`."""
        if self._worker is not None:
            self._status.showMessage("An export is already running", MESSAGE_MS)
            return False
        worker: OperationWorker[int] = OperationWorker(operation)
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(self._on_finished)
        worker.signals.errored.connect(self._on_failed)
        worker.signals.cancelled.connect(self._on_cancelled)
        self._worker, self._target, self._noun = worker, target, noun
        self.bar.setRange(0, 0)
        self.bar.show()
        self._status.showMessage(f"Exporting {noun} to {target.name}…")
        worker.start()
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def _on_progress(self, progress: Progress) -> None:
        if progress.total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(progress.fraction * 1000))
        self.bar.setFormat(f"{progress.done:,} {self._noun}")

    def _done(self) -> Path | None:
        target = self._target
        self._worker = self._target = None
        self.bar.hide()
        return target

    def _on_finished(self, count: object) -> None:
        target = self._done()
        noun = self._noun if count != 1 else self._noun.rstrip("s")
        self._status.showMessage(f"Exported {count:,} {noun} to {target}", MESSAGE_MS)

    def _on_failed(self, message: str, _details: str) -> None:
        self._done()
        self._status.showMessage(f"Export failed: {message}", MESSAGE_MS)

    def _on_cancelled(self) -> None:
        self._done()
        self._status.showMessage("Export cancelled: no file was written", MESSAGE_MS)
