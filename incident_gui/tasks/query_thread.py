"""A worker thread that runs short read queries off the UI thread, newest request first.

Models and widgets submit `(key, function)` jobs; the thread runs the most recently
submitted job first (what the user looks at now), drops a job submitted again under the
same key, and reports back with queued signals: `sig_done(key, result)` or
`sig_failed(key, message, details)` (details: the cause, with its traceback). Keys
carry a generation so callers can ignore stale answers after a reset.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from PySide6.QtCore import QObject, QThread, Signal

from incident_gui.tasks.workers import describe_exception

__all__ = ["QueryThread"]

_IDLE_WAIT_S = 0.25


class QueryThread(QThread):
    """Runs submitted read functions one at a time, last-in first-out."""

    sig_done = Signal(object, object)
    sig_failed = Signal(object, str, str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._jobs: OrderedDict[Hashable, Callable[[], object]] = OrderedDict()
        self._cond = threading.Condition()
        self._stopping = False

    def submit(self, key: Hashable, job: Callable[[], object]) -> None:
        """Queue `job` under `key` (replacing a queued job with that key) and wake up."""
        with self._cond:
            if self._stopping:
                return
            self._jobs[key] = job
            self._jobs.move_to_end(key)
            self._cond.notify()
        if not self.isRunning():
            self.start()

    def is_pending(self, key: Hashable) -> bool:
        with self._cond:
            return key in self._jobs

    def discard_pending(self) -> None:
        with self._cond:
            self._jobs.clear()

    def stop(self) -> None:
        """Drop queued jobs, finish the running one, and end the thread (blocks)."""
        with self._cond:
            self._stopping = True
            self._jobs.clear()
            self._cond.notify_all()
        self.requestInterruption()
        self.wait()

    def _next_job(self) -> tuple[Hashable, Callable[[], object]] | None:
        with self._cond:
            while not self._jobs and not self._stopping:
                self._cond.wait(_IDLE_WAIT_S)
            if self._stopping:
                return None
            return self._jobs.popitem(last=True)

    def run(self) -> None:
        while (job := self._next_job()) is not None:
            key, function = job
            try:
                result = function()
            except Exception as exc:  # reported to the UI with its details, not swallowed
                self.sig_failed.emit(key, *describe_exception(exc))
            else:
                self.sig_done.emit(key, result)
