"""Short reads off the UI thread, one lane per group of views, newest request first.

A view asks for one read and names who gets the answer::

    ticket = lane.submit(lambda: store.read_events(...), self._page_arrived, self._failed)

The lane runs the read on its own thread through the same driver as every operation
(`incident_gui.tasks.workers.drive`), then calls **that request's** `done(result)` or
`failed(message, details)` on the UI thread — no other view sees it. Nothing is
broadcast and nobody filters answers by keys.

Staleness is the requester's business, through its own token: `ticket.cancel()` drops a
queued read and discards the answer of a running one (its callbacks never run). A
`Requests` group does that for all of a view's reads at once (`requests.reset()` when
the view is given another store, filter or order).

The most recently submitted read runs first (what the user looks at now); a read
submitted with a `key` replaces a queued one with the same key (that one is cancelled).

A lane given the store's `interrupt` (`lane.interrupter = store.interrupt`, by the window
for the store it shows) stops the statement of a read cancelled while it runs, and `stop()`
stops the running one: closing the window never waits for a long scan (the whole-store
chart reads for ≈ 17 s at 10M events). Each ticket keeps the interrupter of its submit, so
a read of the previous store is stopped on that store.

A widget used on its own (no window to lend it a lane) makes `Requests(None)`: each read
then runs on a one-shot `OperationWorker`, with the same tickets and callbacks.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from incident_core.progress import Progress
from incident_gui.tasks.workers import (
    OperationWorker,
    Outcome,
    call_operation,
    describe_exception,
    drive,
)

__all__ = ["Failed", "QueryLane", "Requests", "Ticket", "run_alone"]

_IDLE_WAIT_S = 0.25
Failed = Callable[[str, str], None]  # message, details
Interrupter = Callable[[int], object]  # a store's `interrupt(thread)`


class Ticket:
    """One request: its callbacks, and the token that cancels it."""

    def __init__(self, function: Callable[[], Any], done: Callable[[Any], None],
                 failed: Failed, interrupter: Interrupter | None = None) -> None:
        self.function = function
        self._done = done
        self._failed = failed
        self._cancel = threading.Event()
        self._interrupter = interrupter
        self._running_on: int | None = None  # the thread running it, while it runs
        self._lock = threading.Lock()
        self.outcome = Outcome()
        self.delivered = False
        self.slot: Hashable | None = None  # its key, as its `Requests` gave it

    def cancel(self) -> None:
        """Drop the request: if it has not run it will not; its callbacks never run; if
        it is running, its store is asked to stop the statement it runs, from a thread of
        its own (PostgreSQL's cancel request is a round trip to the server: never on the
        UI thread)."""
        self._cancel.set()
        if self._running_on is not None and self._interrupter is not None:
            threading.Thread(target=self._interrupt, name="interruptRead", daemon=True).start()

    def _interrupt(self) -> None:
        with self._lock:  # only while it runs: never the lane's next read
            if self._running_on is not None and self._interrupter is not None:
                self._interrupter(self._running_on)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def pending(self) -> bool:
        return not self.delivered and not self.cancelled

    def run(self) -> None:
        """On the lane's thread."""
        with self._lock:
            self._running_on = threading.get_ident()
        try:
            self.outcome = drive(lambda: call_operation(self.function), self._cancel, _ignore)
        finally:
            with self._lock:  # an interrupt never reaches the thread's next read
                self._running_on = None

    def deliver(self) -> None:
        """On the UI thread: hand the outcome to this request's own callback."""
        if self.cancelled or self.delivered:
            return
        self.delivered = True
        outcome = self.outcome
        if outcome.kind == "finished":
            self._done(outcome.result)
        elif outcome.error is not None:
            self._failed(*describe_exception(outcome.error))


def _ignore(_progress: Progress) -> None:
    return None


class _LaneThread(QThread):
    def __init__(self, lane: QueryLane) -> None:
        super().__init__()
        self._lane = lane

    def run(self) -> None:
        self._lane._serve()


class QueryLane(QObject):
    """Runs submitted reads one at a time on one thread, last-in first-out."""

    _sig_ran = Signal(object)  # Ticket, from the lane's thread to the UI thread

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._jobs: OrderedDict[Hashable, Ticket] = OrderedDict()
        self._cond = threading.Condition()
        self._stopping = False
        self._running: Ticket | None = None
        self.interrupter: Interrupter | None = None  # the shown store's `interrupt`
        self._thread = _LaneThread(self)
        self._thread.setObjectName(name)
        self._sig_ran.connect(self._deliver)

    def submit(self, function: Callable[[], Any], done: Callable[[Any], None],
               failed: Failed, *, key: Hashable | None = None) -> Ticket:
        """Queue `function`; its result goes to `done`, its error to `failed`."""
        ticket = Ticket(function, done, failed, self.interrupter)
        with self._cond:
            if self._stopping:
                ticket.cancel()
                return ticket
            slot: Hashable = key if key is not None else ticket
            replaced = self._jobs.pop(slot, None)
            if replaced is not None:
                replaced.cancel()
            self._jobs[slot] = ticket
            self._cond.notify()
        if not self._thread.isRunning():
            self._thread.start()
        return ticket

    def stop(self, *, wait: bool = True) -> None:
        """Drop queued reads, stop the running one, and end the thread (blocks unless
        `wait` is False: then call `stop()` again to wait)."""
        with self._cond:
            self._stopping = True
            for ticket in self._jobs.values():
                ticket.cancel()
            self._jobs.clear()
            running = self._running
            self._cond.notify_all()
        if running is not None:
            running.cancel()
        if wait:
            self._thread.wait()

    def is_running(self) -> bool:
        """Whether the lane's thread is alive (after `stop`: until its read ended)."""
        return bool(self._thread.isRunning())

    def wait(self, msecs: int) -> bool:
        """Block until the lane's thread ended (after `stop`), or `msecs` pass."""
        return bool(self._thread.wait(msecs))

    def _next(self) -> Ticket | None:
        with self._cond:
            while not self._stopping:
                while self._jobs:
                    ticket = self._jobs.popitem(last=True)[1]
                    if not ticket.cancelled:
                        self._running = ticket
                        return ticket
                self._cond.wait(_IDLE_WAIT_S)
            return None

    def _serve(self) -> None:
        while (ticket := self._next()) is not None:
            ticket.run()
            with self._cond:
                self._running = None
            if not ticket.cancelled:
                self._sig_ran.emit(ticket)

    def _deliver(self, ticket: Ticket) -> None:
        if not self._stopping:  # after `stop` its requesters may be gone
            ticket.deliver()


def run_alone(function: Callable[[], Any], done: Callable[[Any], None],
              failed: Failed) -> Ticket:
    """One read on its own worker thread (for a widget without a lane)."""
    ticket = Ticket(function, done, failed)
    worker: OperationWorker[Any] = OperationWorker(lambda: call_operation(function))

    def ended(kind: str, result: object = None) -> None:
        ticket.outcome.kind, ticket.outcome.result = kind, result
        ticket.outcome.error = worker.exception
        ticket.deliver()

    worker.signals.finished.connect(lambda result: ended("finished", result))
    worker.signals.errored.connect(lambda _message, _details: ended("errored"))
    worker.start()
    return ticket


class Requests:
    """A view's reads on a lane (None: each on its own worker), cancelled together when
    what it shows changes."""

    def __init__(self, lane: QueryLane | None) -> None:
        self.lane = lane
        self._tickets: list[Ticket] = []

    def submit(self, function: Callable[[], Any], done: Callable[[Any], None],
               failed: Failed, *, key: Hashable | None = None) -> Ticket:
        self._tickets = [t for t in self._tickets if t.pending]
        slot = None if key is None else (id(self), key)  # never another view's key
        if self.lane is None:
            if key is not None:  # a newer read of the same thing: the older is stale
                for older in self._tickets:
                    if older.slot == slot:
                        older.cancel()
            ticket = run_alone(function, done, failed)
            ticket.slot = slot
        else:
            ticket = self.lane.submit(function, done, failed, key=slot)
        self._tickets.append(ticket)
        return ticket

    def reset(self) -> None:
        """Drop every read asked so far: their answers are stale now."""
        for ticket in self._tickets:
            ticket.cancel()
        self._tickets.clear()

    def busy(self) -> bool:
        return any(t.pending for t in self._tickets)
