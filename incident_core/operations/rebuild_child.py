"""A rebuild in a process of its own: the same `rebuild` operation, driven in a child that
opens the store itself, so the replay's rows never live in the caller's process (the
inspector's window keeps its memory, and never stalls freeing them).

The caller starts `child_command()` and talks JSON lines over the child's stdin/stdout:

* it writes one request, `ChildRequest.to_line()` (the store, the domain as
  `module:attribute`, the projections, and `sys.path` so that the child imports what the
  caller imports), then `cancel` to stop (or closes stdin: a caller gone stops the child);
* the child answers `{"progress": [done, total, message]}` lines (at most
  MAX_PROGRESS_RATE a second), then exactly one of `{"finished": report}`,
  `{"errored": {"message", "details", "kind"}}` or `{"cancelled": true}`, and exits.

Cancelling closes the operation at its next yield: nothing is written (the staged lineage is
discarded), exactly as in the caller's thread. A child killed outright leaves the rows,
checkpoints and lineage as they were: the rows are only written by the swap at the end, in
one transaction per projection (killed between two swaps, the first projection is rebuilt
and the second as it was). What a kill can leave is the staged lineage of a replay that had
flushed some (`StagedLineage`: 50,000 entries at a time), under a staging name no read
uses, which the next rebuild clears first.

Domain code that raises reaches the caller as `kind: "domain"` with its traceback as
details; the child never prints a traceback of its own. Output of domain code (`print`)
goes to stderr, never into the answers.

Run as `python -m incident_core.operations.rebuild_child`, or, in a frozen bundle, as the
bundle's executable with the single argument CHILD_FLAG (its launcher calls `main`).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from incident_core.domain import Domain
from incident_core.engine.results import DomainCodeError
from incident_core.errors import IncidentError
from incident_core.operations.rebuild import ProjectionRebuilt, RebuildReport, rebuild
from incident_core.progress import Operation, Progress

__all__ = ["CHILD_FLAG", "MAX_PROGRESS_RATE", "ChildRequest", "child_command", "main",
           "report_from_json"]

CHILD_FLAG = "--rebuild-child"
MAX_PROGRESS_RATE = 20.0


@dataclass(frozen=True)
class ChildRequest:
    """What the child needs to rebuild: never the password of a URL on its command line
    (the request goes over stdin)."""

    target: str
    domain: str  # module:attribute
    names: list[str]
    path: list[str] = field(default_factory=list)  # the caller's sys.path

    def to_line(self) -> bytes:
        return (json.dumps({"target": self.target, "domain": self.domain,
                            "names": self.names, "path": self.path}) + "\n").encode()

    @classmethod
    def from_line(cls, line: str) -> ChildRequest:
        raw = json.loads(line)
        return cls(str(raw["target"]), str(raw["domain"]), [str(n) for n in raw["names"]],
                   [str(p) for p in raw.get("path", [])])


def child_command() -> list[str]:
    """The command line that runs the child (the bundle's executable when frozen)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, CHILD_FLAG]
    return [sys.executable, "-m", "incident_core.operations.rebuild_child"]


def report_from_json(raw: dict[str, Any]) -> RebuildReport:
    """The `RebuildReport` a child sent (`RebuildReport.to_json`)."""
    return RebuildReport([ProjectionRebuilt(p["name"], int(p["rows"]), int(p["events_applied"]))
                          for p in raw["projections"]],
                         int(raw["head"]), int(raw["events_read"]), float(raw["seconds"]))


def load_domain(spec: str) -> Domain:
    """`module:attribute` as the inspector loads it (a callable attribute is called)."""
    module_name, _, attribute = spec.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
        if callable(value) and not isinstance(value, Domain):
            value = value()
    except Exception as exc:  # the user's module may raise anything while importing
        raise DomainCodeError(f"loading the domain {spec}", exc) from exc
    if not isinstance(value, Domain):
        raise IncidentError(f"{spec} is a {type(value).__name__}, not an incident Domain")
    return value


class _Channel:
    """The answers, on the stdout the child was started with (domain code's prints go to
    stderr instead)."""

    def __init__(self) -> None:
        self._out: IO[str] = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        self._last = 0.0

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()

    def progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if self._last == 0.0 or now - self._last >= 1.0 / MAX_PROGRESS_RATE:
            self._last = now
            self.send({"progress": [progress.done, progress.total, progress.message]})


def _watch_stdin(cancel: threading.Event) -> None:
    """`cancel` on a `cancel` line, or when the caller closes stdin (it is gone)."""
    for line in sys.stdin:
        if line.strip() == "cancel":
            break
    cancel.set()


def _drive(operation: Operation[RebuildReport], cancel: threading.Event,
           channel: _Channel) -> RebuildReport | None:
    """Run to the end (the report) or to a cancel (None); the operation is closed."""
    try:
        while not cancel.is_set():
            try:
                channel.progress(next(operation))
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
        return None
    finally:
        operation.close()


def _failure(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, DomainCodeError):
        original = exc.original
        details = "".join(traceback.format_exception(type(original), original,
                                                     original.__traceback__))
        return {"message": str(exc), "details": details, "kind": "domain"}
    if isinstance(exc, IncidentError):
        cause = exc.__cause__
        details = f"{type(exc).__name__}: {exc}"
        if cause is not None and not isinstance(cause, IncidentError):
            details += "\n\nCaused by:\n" + "".join(traceback.format_exception(cause))
        return {"message": str(exc), "details": details, "kind": "incident"}
    return {"message": f"Unexpected error: {type(exc).__name__}: {exc}",
            "details": "".join(traceback.format_exception(exc)), "kind": "unexpected"}


def run(request: ChildRequest, cancel: threading.Event, channel: _Channel) -> None:
    """Open the store, rebuild, answer, close."""
    from incident_core.engine.binding import open_application

    for entry in reversed(request.path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    domain = load_domain(request.domain)
    app = open_application(request.target, domain, module=request.domain).app
    try:
        report = _drive(rebuild(app, request.names), cancel, channel)
    finally:
        app.close()
    channel.send({"cancelled": True} if report is None else {"finished": report.to_json()})


def main(argv: Sequence[str] | None = None) -> int:
    """The child: read the request, rebuild, answer; exit 0 (1 if it failed)."""
    channel = _Channel()
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: cancel.set())
    try:
        request = ChildRequest.from_line(sys.stdin.readline())
        threading.Thread(target=_watch_stdin, args=(cancel,), daemon=True).start()
        run(request, cancel, channel)
        code = 0
    except BaseException as exc:  # answered, never printed as a traceback
        channel.send({"errored": _failure(exc)})
        code = 1
    sys.stderr.flush()
    os._exit(code)  # nothing left to free: the replay's objects go with the process


if __name__ == "__main__":
    sys.exit(main())
