"""Running the core's long operations off the UI thread.

A core operation is a plain generator (`incident_core.progress`): it yields `Progress`,
returns its result, and writes nothing until it finishes. `OperationWorker` drives one in
its own `QThread`::

    worker = OperationWorker(lambda: rebuild(app, ["bank_accounts"]))
    worker.signals.progress.connect(self._on_progress)
    worker.signals.finished.connect(self._on_finished)
    worker.start()
    ...
    worker.cancel()   # checked between yields; the generator is closed, nothing is written

Threads and signals:

* ``started`` and ``progress`` are emitted **from the worker thread**; ``finished``,
  ``errored`` and ``cancelled`` are emitted on the thread that created the worker (the UI
  thread) **after the worker thread has ended**, so a slot never sees a thread still running.
* ``signals`` is a `QObject` living on the UI thread. Slots connected with the default
  (auto) connection — bound methods of widgets, or plain functions and lambdas — run queued
  on the UI thread, never on the worker thread. Never touch widgets from the operation
  itself.
* ``progress`` is throttled to at most ``MAX_PROGRESS_RATE`` emissions per second (the
  first one is always sent at once).
* While an operation runs, full garbage collections are held off
  (`incident_gui.tasks.collector`): walking the millions of objects a rebuild makes
  would stop the UI thread for a second.
* Exactly one of ``finished(result)``, ``errored(message, details)`` or ``cancelled()``
  ends a run. An `IncidentError` gives its own one-line message (details: its type and the
  underlying cause); any other exception is reported with its traceback in the details.

A worker keeps itself alive while its thread runs, so dropping the last reference to a
running worker is safe; `cancel_all_workers` ends every running operation (window close),
those run in a child process (`tasks.child_worker`) included.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Generator
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QObject, QThread, Signal

from incident_core import DomainCodeError
from incident_core.errors import IncidentError
from incident_core.progress import Progress
from incident_gui.tasks.collector import held_full_collections

__all__ = [
    "MAX_PROGRESS_RATE",
    "Killable",
    "OperationWorker",
    "Outcome",
    "Worker",
    "WorkerSignals",
    "active_workers",
    "call_operation",
    "cancel_all_workers",
    "describe_exception",
    "drive",
    "failure_kind",
    "keep_alive",
    "let_go",
    "run_operation",
]

T = TypeVar("T")
R = TypeVar("R")
MAX_PROGRESS_RATE = 20.0
_PROGRESS_INTERVAL = 1.0 / MAX_PROGRESS_RATE


class Worker(Protocol):
    """What `cancel_all_workers` and the window need of a running operation (a thread's
    `OperationWorker` or a child process's `ChildWorker`)."""

    def cancel(self) -> None: ...
    def wait(self, msecs: int = -1) -> bool: ...
    def is_running(self) -> bool: ...


@runtime_checkable
class Killable(Protocol):
    """A worker that can be ended at once (a child process)."""

    def kill(self) -> None: ...


_ALIVE: set[Worker] = set()


def keep_alive(worker: Worker) -> None:
    """Hold `worker` (and count it among `active_workers`) until `let_go`."""
    _ALIVE.add(worker)


def let_go(worker: Worker) -> None:
    _ALIVE.discard(worker)


class WorkerSignals(QObject):
    """The signals of one worker (a separate QObject living on the UI thread)."""

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    errored = Signal(str, str)
    cancelled = Signal()


def failure_kind(exc: BaseException | None) -> str:
    """How an error is shown: "domain" (user code raised: its traceback behind Details),
    "incident" (an expected error: one line) or "unexpected" (with its traceback)."""
    if isinstance(exc, DomainCodeError):
        return "domain"
    return "incident" if isinstance(exc, IncidentError) else "unexpected"


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(one-line message, details) for an exception raised by an operation."""
    if isinstance(exc, IncidentError):
        details = f"{type(exc).__name__}: {exc}"
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, IncidentError):
            details += "\n\nCaused by:\n" + "".join(traceback.format_exception(cause))
        return str(exc), details
    message = f"Unexpected error: {type(exc).__name__}: {exc}"
    return message, "".join(traceback.format_exception(exc))


class Outcome:
    """How a run ended (written by the worker thread before it ends, read after)."""

    def __init__(self) -> None:
        self.kind = "cancelled"
        self.result: object = None
        self.error: BaseException | None = None


def drive(factory: Callable[[], Generator[Progress, None, Any]], cancel: threading.Event,
          report: Callable[[Progress], None]) -> Outcome:
    """Run one operation to its end on the calling (worker) thread: the one driver every
    runner uses. Checks `cancel` between yields (then closes the generator, so it writes
    nothing), throttles `report` to MAX_PROGRESS_RATE, and never raises."""
    outcome = Outcome()
    try:
        outcome.kind, outcome.result = _iterate(factory(), cancel, report)
    except BaseException as exc:  # reported through `errored`, never swallowed
        outcome.kind, outcome.error = "errored", exc
    return outcome


def _iterate(operation: Generator[Progress, None, Any], cancel: threading.Event,
             report: Callable[[Progress], None]) -> tuple[str, object]:
    last_emit = 0.0
    try:
        while True:
            if cancel.is_set():
                return "cancelled", None
            try:
                progress = next(operation)
            except StopIteration as stop:
                return "finished", stop.value
            now = time.monotonic()
            if last_emit == 0.0 or now - last_emit >= _PROGRESS_INTERVAL:
                last_emit = now
                report(progress)
    finally:
        operation.close()


class _Runner(QThread):
    def __init__(self, worker: OperationWorker[Any]) -> None:
        super().__init__()
        self._worker = worker

    def run(self) -> None:
        self._worker._drive()


class OperationWorker(QObject, Generic[T]):
    """Drives `operation_factory()` (a `Generator[Progress, None, T]`) in its own thread.

    The factory is called on the worker thread, so even building the operation stays off
    the UI thread. Use it once: `start()`, then wait for one of the ending signals.
    """

    def __init__(self, operation_factory: Callable[[], Generator[Progress, None, T]]) -> None:
        super().__init__()
        self.signals = WorkerSignals()
        self._factory = operation_factory
        self._cancel = threading.Event()
        self._outcome = Outcome()
        self._thread = _Runner(self)
        self._thread.finished.connect(self._on_thread_finished)
        self._done = False

    # -- public API (UI thread) ------------------------------------------------------
    def start(self) -> None:
        if self._thread.isRunning() or self._done:
            raise RuntimeError("an OperationWorker runs only once")
        _ALIVE.add(self)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the operation to stop at its next yield (it is closed, so it writes nothing)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, msecs: int = -1) -> bool:
        """Block until the worker thread ends (or `msecs` pass); True if it ended.
        The ending signal is delivered afterwards, when the UI event loop runs."""
        if msecs < 0:
            return bool(self._thread.wait())
        return bool(self._thread.wait(msecs))

    @property
    def exception(self) -> BaseException | None:
        """The exception of an errored run (read it in the `errored` slot)."""
        return self._outcome.error

    @property
    def failure_kind(self) -> str:
        """How the error of an errored run is shown (`failure_kind`)."""
        return failure_kind(self._outcome.error)

    # -- worker thread ----------------------------------------------------------------
    def _drive(self) -> None:
        self.signals.started.emit()
        with held_full_collections():  # a full collection of its objects stalls the UI
            self._outcome = drive(self._factory, self._cancel, self.signals.progress.emit)

    # -- back on the UI thread ----------------------------------------------------------
    def _on_thread_finished(self) -> None:
        self._thread.wait()
        self._done = True
        outcome = self._outcome
        try:
            if outcome.kind == "finished":
                self.signals.finished.emit(outcome.result)
            elif outcome.kind == "errored" and outcome.error is not None:
                self.signals.errored.emit(*describe_exception(outcome.error))
            else:
                self.signals.cancelled.emit()
        finally:
            _ALIVE.discard(self)


def call_operation(function: Callable[[], R]) -> Generator[Progress, None, R]:
    """A one-step operation around a blocking call (a dispatch that may wait for a
    busy SQLite writer): `OperationWorker(lambda: call_operation(fn))`."""
    return function()
    yield Progress(0, 0)  # unreachable: makes this function a generator


def active_workers() -> list[Worker]:
    """Workers started and not yet ended (their ending signal not yet delivered)."""
    return list(_ALIVE)


def cancel_all_workers(timeout_ms: int = 5000) -> bool:
    """Cancel every running worker and wait for their threads; True if all ended. A child
    process still running then is killed (a thread cannot be)."""
    workers = active_workers()
    for worker in workers:
        worker.cancel()
    deadline = time.monotonic() + timeout_ms / 1000
    ended = True
    for worker in workers:
        remaining = max(0, int((deadline - time.monotonic()) * 1000))
        if not worker.wait(remaining) and isinstance(worker, Killable):
            worker.kill()
        ended = not worker.is_running() and ended
    return ended


def run_operation(factory: Callable[[], Generator[Progress, None, T]], *,
                  done: Callable[[T], None], failed: Callable[[str, str], None],
                  progress: Callable[[Progress], None] | None = None,
                  cancelled: Callable[[], None] | None = None) -> OperationWorker[T]:
    """Start `factory()` on its own worker; its ending reaches only these callbacks
    (on the UI thread). Keep the worker to cancel it."""
    worker: OperationWorker[T] = OperationWorker(factory)
    worker.signals.finished.connect(done)
    worker.signals.errored.connect(failed)
    if progress is not None:
        worker.signals.progress.connect(progress)
    if cancelled is not None:
        worker.signals.cancelled.connect(cancelled)
    worker.start()
    return worker
