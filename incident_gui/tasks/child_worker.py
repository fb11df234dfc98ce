"""A rebuild in a child process, with the same signals as an `OperationWorker`.

`ChildWorker(request)` runs `incident_core.operations.rebuild_child` (the bundle's own
executable when frozen) in a `QProcess`: the child opens the store, replays and swaps, and
answers progress and its ending as JSON lines, read here on the UI thread as they come (a
few lines a second: no thread of ours runs the replay, so it never holds the GIL the window
needs, and its rows never live in the window's process).

`cancel()` asks the child to stop at its next yield (it then writes nothing); a child
still running CANCEL_GRACE_MS later is killed, which leaves the store as it was too (the
rows are only written by the swap at the end). Exactly one of ``finished(report)``,
``errored(message, details)`` or ``cancelled()`` ends a run, after the process ended.
A child that ends without an answer (killed, crashed) errors with what it printed as the
details, never in the message.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer

from incident_core.operations.rebuild_child import (
    ChildRequest,
    child_command,
    report_from_json,
)
from incident_core.progress import Progress
from incident_core.store.open import is_memory
from incident_gui.session.store_session import Session
from incident_gui.tasks.workers import WorkerSignals, keep_alive, let_go

__all__ = ["CANCEL_GRACE_MS", "ChildHome", "ChildWorker", "child_home"]

CANCEL_GRACE_MS = 10_000
_STDERR_KEPT = 20_000  # characters of the child's stderr kept for the details


class ChildWorker(QObject):
    """One run of the rebuild child; use it once: `start()`, then wait for its ending."""

    def __init__(self, request: ChildRequest) -> None:
        super().__init__()
        self.signals = WorkerSignals()
        self.failure_kind = ""  # "domain", "incident" or "unexpected" once it errored
        self._request = request
        self._cancelled = False
        self._done = False
        self._answer: dict[str, Any] | None = None
        self._buffer = b""
        self._stderr = ""
        self._process = QProcess(self)
        self._process.readyReadStandardOutput.connect(self._read_answers)
        self._process.readyReadStandardError.connect(self._read_stderr)
        self._process.finished.connect(self._on_finished)
        self._process.errorOccurred.connect(self._on_error)
        self._kill_timer = QTimer(self, singleShot=True, interval=CANCEL_GRACE_MS)
        self._kill_timer.timeout.connect(self._process.kill)

    # -- the OperationWorker's API --------------------------------------------------------
    def start(self) -> None:
        program, *arguments = child_command()
        keep_alive(self)
        self._process.start(program, arguments)
        self._process.write(self._request.to_line())
        self.signals.started.emit()

    def cancel(self) -> None:
        """Ask the child to stop (it writes nothing); killed if it has not within
        CANCEL_GRACE_MS."""
        if self._cancelled or not self.is_running():
            return
        self._cancelled = True
        self._process.write(b"cancel\n")
        self._kill_timer.start()

    @property
    def cancel_requested(self) -> bool:
        return self._cancelled

    def is_running(self) -> bool:
        return self._process.state() != QProcess.ProcessState.NotRunning

    def wait(self, msecs: int = -1) -> bool:
        """Block until the child ends (or `msecs` pass); True if it ended. The ending
        signal is delivered afterwards, when the UI event loop runs."""
        if not self.is_running():
            return True
        return bool(self._process.waitForFinished(msecs))

    def kill(self) -> None:
        """End the child at once (the window is closing and it did not stop in time): the
        store is left as it was, the swap being one transaction per projection."""
        if self.is_running():
            self._cancelled = True
            self._process.kill()
            self._process.waitForFinished(1000)

    @property
    def process_id(self) -> int:
        """The child's process id (0 when it is not running)."""
        return int(self._process.processId())

    @property
    def exception(self) -> BaseException | None:
        return None  # a child's error arrives as text (`failure_kind`, message, details)

    # -- the child's output -----------------------------------------------------------------
    def _read_answers(self) -> None:
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._take(line)

    def _take(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return  # not ours (the channel only carries answers, but never trust it)
        if not isinstance(message, dict):
            return
        progress = message.get("progress")
        if isinstance(progress, list) and len(progress) == 3:
            if not self._cancelled:
                self.signals.progress.emit(Progress(int(progress[0]), int(progress[1]),
                                                    str(progress[2])))
        else:
            self._answer = message

    def _read_stderr(self) -> None:
        text = bytes(self._process.readAllStandardError().data()).decode(errors="replace")
        self._stderr = (self._stderr + text)[-_STDERR_KEPT:]

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:  # no `finished` follows
            self._stderr += f"\n{self._process.errorString()}"
            self._end()

    def _on_finished(self, _code: int, _status: QProcess.ExitStatus) -> None:
        self._read_answers()
        self._read_stderr()
        self._end()

    def _end(self) -> None:
        if self._done:
            return
        self._done = True
        self._kill_timer.stop()
        answer = self._answer or {}
        try:
            if "finished" in answer:
                self.signals.finished.emit(report_from_json(answer["finished"]))
            elif "errored" in answer:
                failure = answer["errored"]
                self.failure_kind = str(failure.get("kind", "unexpected"))
                self.signals.errored.emit(str(failure.get("message", "")),
                                          str(failure.get("details", "")))
            elif self._cancelled or "cancelled" in answer:
                self.signals.cancelled.emit()
            else:
                self.failure_kind = "unexpected"
                self.signals.errored.emit(
                    "the rebuild process ended without finishing "
                    f"(exit code {self._process.exitCode()})", self._stderr.strip())
        finally:  # after this emission: its QProcess must outlive the signal it sends
            QTimer.singleShot(0, lambda: let_go(self))


@dataclass(frozen=True)
class ChildHome:
    """Where a child can rebuild: the store's target and its domain as `module:attr`."""

    target: str
    domain: str

    def request(self, names: list[str]) -> ChildRequest:
        return ChildRequest(self.target, self.domain, names, list(sys.path))


def child_home(session: Session | None) -> ChildHome | None:
    """Where `session`'s rebuilds can run in a child; None when only this process can
    (an in-memory store, a domain module the child could not import by name): they then
    run on a thread here."""
    if session is None or session.read_only or is_memory(session.target):
        return None
    module = sys.modules.get(session.domain_spec.partition(":")[0])
    found = getattr(module, "__spec__", None)
    if found is None or found.origin is None:  # made in memory: no child can import it
        return None
    return ChildHome(session.target, session.domain_spec)
