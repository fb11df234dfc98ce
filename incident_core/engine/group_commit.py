"""Group commit: concurrent dispatches in one process share one durable commit.

Leader/follower, no timers: a dispatch that finds the writer free commits at once (a lone
writer waits for nobody). One that finds it busy queues its write and waits; when the
writer is done, the first queued dispatch leads the next batch: everything queued meanwhile,
in one transaction, each command in its own savepoint (`StoreTransaction.savepoint`, which
stores whose `group_commit` is true have), so a command that raises (a version conflict, a
refused value, failing domain code) is undone alone and its batch-mates are committed. A
command is only acknowledged after the commit that holds it; if that commit fails, every
command of the batch gets the error.

Across processes each process groups its own threads; processes take turns on the store's
write lock (one commit each) unless they open the store with `shared_writer=True`: then one
of them is elected the store's writer and the others hand it their commands over a local
socket, so their commands share its batches too (`incident_core.engine.shared_writer`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

from incident_core import telemetry
from incident_core.ports import EventStore, StoreTransaction

__all__ = ["GroupCommit"]

T = TypeVar("T")
Work = Callable[[StoreTransaction, bool], T]  # (transaction, shared with others?)


class _Ticket(Generic[T]):
    __slots__ = ("done", "error", "lead", "result", "work")

    def __init__(self, work: Work[T]) -> None:
        self.work = work
        self.done = False
        self.lead = False
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs `work(tx)` of concurrent callers in shared transactions (see the module)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        # one plain mutex: a lone writer takes it (not the Condition's Python layer) once to
        # claim the writer and once to hand it on; waiters wait on the Condition made on it
        self._mutex = threading.Lock()
        self._cond = threading.Condition(self._mutex)
        self._queue: list[_Ticket[Any]] = []
        self._busy = False
        self.batches = 0  # durable commits made, and the writes they held
        self.writes = 0

    def run(self, work: Work[T]) -> T:
        """`work(tx)` committed durably with whatever else is queued; its result, or what
        it (or the commit) raised."""
        with self._mutex:
            alone = not self._busy  # (the queue is empty whenever the writer is free)
            if alone:
                self._busy = True
        if alone:
            return self._alone(work)
        ticket: _Ticket[T] = _Ticket(work)
        with self._cond:
            self._queue.append(ticket)
            while self._busy and not (ticket.done or ticket.lead):
                self._cond.wait()
            leads = not ticket.done
            if leads:
                self._busy = True  # free, or handed the lead by the last leader
        if leads:
            self._lead()
        error, ticket.error = ticket.error, None
        if error is None:
            return cast(T, ticket.result)
        try:  # the ticket is in the error's traceback: neither keeps the other alive
            raise error
        finally:
            del error

    def _alone(self, work: Work[T]) -> T:
        """A lone writer's `work`, committed at once; the lead handed to whoever queued
        meanwhile."""
        try:
            with self.store.transaction() as tx:
                result = work(tx, False)
            self.batches += 1
            telemetry.batch_committed(1)
            self.writes += 1
        finally:
            self._hand_on()
        return result

    def _hand_on(self, batch: Sequence[_Ticket[Any]] = ()) -> None:
        """The writer is done (with `batch`, its tickets now answered): the first queued
        dispatch leads the next batch."""
        with self._mutex:  # the Condition's own lock: notify_all may be called under it
            for ticket in batch:
                ticket.done = True
            if self._queue:
                self._queue[0].lead = True  # it leads the next batch
            else:
                self._busy = False
            if batch or self._queue:  # else nobody waits: nobody to wake
                self._cond.notify_all()

    def _lead(self) -> None:
        with self._mutex:
            batch, self._queue = self._queue, []
        try:
            self._commit(batch)
        finally:
            self._hand_on(batch)

    def _commit(self, batch: list[_Ticket[Any]]) -> None:
        results: list[tuple[_Ticket[Any], Any]] = []
        try:
            with self.store.transaction() as tx:
                if len(batch) == 1:  # alone: its error rolls back the transaction
                    results.append((batch[0], batch[0].work(tx, False)))
                else:
                    for ticket in batch:
                        self._one(tx, ticket, results)
        except BaseException as exc:  # nothing of this batch is committed
            for ticket in batch:
                if ticket.error is None:
                    ticket.error = exc
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        telemetry.batch_committed(len(batch))
        self.writes += len(results)
        for ticket, result in results:
            ticket.result = result

    def _one(self, tx: StoreTransaction, ticket: _Ticket[Any],
             results: list[tuple[_Ticket[Any], Any]]) -> None:
        try:
            with tx.savepoint():  # undone alone; the store's errors come as the library's
                result = ticket.work(tx, True)
        except Exception as exc:  # a conflict, a refused value, domain code, a bind error
            ticket.error = exc
        else:
            results.append((ticket, result))
