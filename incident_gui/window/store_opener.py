"""Opening a store off the UI thread, with a busy indicator.

Opening reads and may write (migrations, the domain binding, a write transaction that
finishes pending sagas), and loading a user's domain may take a while: all of it, and
reading the head the views start from, runs on an `OperationWorker`. The status bar shows
"Opening …" with a busy bar meanwhile; the UI thread keeps painting and answering. The
first page of the global log is read there too (positions 1..PAGE_SIZE: a few pages of the
file), so the window opens on a filled log; everything else (the streams list, whose first
page of a store of millions of streams walks an index and as many table rows, the counts
and the whole-store chart) is read after, on the views' own lanes.

`begin(...)` starts an open and returns at once (menus, drops, start-up); `wait()` runs a
local event loop until it ended, for callers that need the outcome (a script, a test,
the File ▸ New flow). Exactly one of `sig_opened(OpenedStore)` / `sig_failed(target,
message, details)` ends each open. An open still running when the window closes is
cancelled and its session closed.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QProgressBar, QStatusBar

from incident_core import RecordedEvent
from incident_core.progress import Progress
from incident_gui.models.log_pages import PAGE_SIZE
from incident_gui.presentation.naming import named
from incident_gui.session.store_session import Session, open_session
from incident_gui.tasks.workers import OperationWorker, run_operation

__all__ = ["OpenRequest", "OpenedStore", "StoreOpener"]


@dataclass(frozen=True)
class OpenRequest:
    target: str
    domain_spec: str | None = None
    read_only: bool = False
    create: bool = False


@dataclass(frozen=True)
class OpenedStore:
    request: OpenRequest
    session: Session
    head: int  # the store's head when opened: where the views start
    log_page: list[RecordedEvent] | None = None  # the global log's first page (up to head)


def open_store(request: OpenRequest) -> Generator[Progress, None, OpenedStore]:
    """The open as an operation (on a worker): a cancel after the open closes the store."""
    session = open_session(request.target, domain_spec=request.domain_spec,
                           read_only=request.read_only, create=request.create)
    try:
        head = session.app.store.head()
        yield Progress(1, 2)
        page = session.app.store.read_events(after_position=0, limit=PAGE_SIZE) if head else []
        yield Progress(2, 2)
    except BaseException:  # cancelled (GeneratorExit) or failed: nobody will use it
        session.close()
        raise
    return OpenedStore(request, session, head, [e for e in page if e.position <= head])


class StoreOpener(QObject):
    """Runs one store open at a time on a worker; shows it in `status`."""

    sig_opened = Signal(object)  # OpenedStore
    sig_failed = Signal(str, str, str)  # target, message, details

    def __init__(self, status: QStatusBar, parent: QObject | None = None,
                 opener: Callable[[OpenRequest], Generator[Progress, None, OpenedStore]]
                 = open_store) -> None:
        super().__init__(parent)
        self._status = status
        self._open = opener
        self._worker: OperationWorker[OpenedStore] | None = None
        self._request: OpenRequest | None = None
        self._loop: QEventLoop | None = None
        self._outcome = False
        self.bar = named(QProgressBar(), "openProgress")
        self.bar.setRange(0, 0)  # busy
        self.bar.setMaximumWidth(120)
        self.bar.hide()
        status.addPermanentWidget(self.bar)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def begin(self, request: OpenRequest) -> bool:
        """Start opening (False if an open is already running)."""
        if self._worker is not None:
            self._status.showMessage("A store is being opened already", 5000)
            return False
        self._request = request
        self._status.showMessage(f"Opening {request.target}…")
        self.bar.show()
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        self._worker = run_operation(lambda: self._open(request), done=self._on_opened,
                                     failed=self._on_failed, cancelled=self._on_cancelled)
        return True

    def wait(self) -> bool:
        """Process events until the running open ended; True if it opened a store."""
        if self._worker is not None:
            self._loop = QEventLoop()
            self._loop.exec()
            self._loop = None
        return self._outcome

    def cancel(self) -> None:
        """Window closing: stop the open (its session, if made, is closed) and wait."""
        worker = self._worker
        if worker is not None:
            worker.cancel()
            worker.wait()

    def _ended(self, opened: bool) -> OpenRequest:
        request = self._request
        assert request is not None
        self._worker = self._request = None
        self._outcome = opened
        self.bar.hide()
        self._status.clearMessage()
        QApplication.restoreOverrideCursor()
        if self._loop is not None:
            self._loop.quit()
        return request

    def _on_opened(self, opened: OpenedStore) -> None:
        self._ended(True)
        self.sig_opened.emit(opened)

    def _on_failed(self, message: str, details: str) -> None:
        request = self._ended(False)
        self.sig_failed.emit(request.target, message, details)

    def _on_cancelled(self) -> None:
        self._ended(False)
