"""Closing stores off the UI thread.

Closing a store is I/O: it waits for the writer's lock (a dispatch still committing), runs
the last WAL checkpoint and joins the checkpointer thread. `StoreCloser.close(session)`
runs it on an `OperationWorker`; the window goes on at once with the next store.

Whoever does something to the store's *file* next (branching deletes or moves it) must
wait for the close first: `wait()` runs a local event loop until every close has ended
(the UI keeps painting), like `StoreOpener.wait()` for an open. `finish()` is for the
window's shutdown: it blocks until the closes ended, and drops their callbacks.

A close is never cancelled: its worker's cancel is only ever asked by `cancel_all_workers`,
which the window calls after `finish()`.
"""

from __future__ import annotations

from PySide6.QtCore import QEventLoop, QObject
from PySide6.QtWidgets import QStatusBar

from incident_gui.session.store_session import Session
from incident_gui.tasks.workers import OperationWorker, call_operation, run_operation

__all__ = ["StoreCloser"]


class StoreCloser(QObject):
    """Closes sessions on workers; `wait()` until they are closed. A failed close is
    shown in `status` (nothing is left to do about it)."""

    def __init__(self, status: QStatusBar | None = None, parent: QObject | None = None
                 ) -> None:
        super().__init__(parent)
        self._status = status
        self._closing: list[OperationWorker[None]] = []
        self._loop: QEventLoop | None = None
        self._finished = False

    @property
    def busy(self) -> bool:
        return bool(self._closing)

    def close(self, session: Session) -> None:
        """Close `session` on a worker (the UI thread goes on)."""
        worker: OperationWorker[None] = run_operation(
            lambda: call_operation(session.close),
            done=lambda _none: self._ended(worker),
            failed=lambda message, _details: self._ended(worker, message))
        self._closing.append(worker)

    def wait(self) -> None:
        """Process events until every close has ended (its file is free then)."""
        while self._closing and not self._finished:
            self._loop = QEventLoop()
            self._loop.exec()
            self._loop = None

    def finish(self) -> None:
        """Shutdown: block until every close has ended; their callbacks are dropped."""
        self._finished = True
        for worker in self._closing:
            worker.wait()
        self._closing.clear()
        if self._loop is not None:
            self._loop.quit()

    def _ended(self, worker: OperationWorker[None], problem: str | None = None) -> None:
        if self._finished:
            return
        if worker in self._closing:
            self._closing.remove(worker)
        if problem is not None and self._status is not None:
            self._status.showMessage(f"Closing the previous store failed: {problem}", 8000)
        if self._loop is not None:
            self._loop.quit()
