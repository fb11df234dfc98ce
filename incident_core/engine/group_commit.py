"""Group commit: concurrent dispatches in one process share one durable commit.

Leader/follower, no timers: a dispatch that finds the writer free commits at once (a lone
writer waits for nobody). One that finds it busy queues its write and waits; when the
writer is done, the first queued dispatch leads the next batch: everything queued meanwhile,
in one transaction, each command in its own savepoint (`StoreTransaction.savepoint`, which
stores whose `group_commit` is true have), so a command that raises (a version conflict, a
refused value, failing domain code) is undone alone and its batch-mates are committed. What
queues while a transaction is being written joins it before its COMMIT (`_join`: up to
`MAX_BATCH` commands), so a lone writer's commit does not leave the others a flush of their
own to wait for. A command is only acknowledged after the commit that holds it; if that
commit fails, every command of the batch gets the error.

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
MAX_BATCH = 64  # commands in one transaction at most: the first one waits for them all
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
        """A lone writer's `work`, committed at once (with whoever queued meanwhile: `_join`);
        the lead handed to whoever queued after that."""
        joined: list[_Ticket[Any]] = []
        try:
            with self.store.transaction() as tx:
                result = work(tx, False)
                if self._queue:  # (read unlocked: `_join` takes it under the lock)
                    self._join(tx, joined, 1)
            self._committed(1, joined)
        except BaseException as exc:
            self._failed(joined, exc)
            raise
        finally:
            self._hand_on(joined)
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
        try:
            with self.store.transaction() as tx:
                if len(batch) == 1:  # alone: its error rolls back the transaction
                    batch[0].result = batch[0].work(tx, False)
                else:
                    for ticket in batch:
                        self._one(tx, ticket)
                self._join(tx, batch, len(batch))
        except BaseException as exc:  # nothing of this batch is committed
            self._failed(batch, exc)
            if not isinstance(exc, Exception):
                raise
            return
        self._committed(0, batch)

    def _join(self, tx: StoreTransaction, batch: list[_Ticket[Any]], size: int) -> None:
        """Whatever queued while this transaction (`size` commands) was written joins it,
        each in its own savepoint, before the commit: one durable commit for them too, and
        no batch of one waiting for a flush of its own. `batch` gets the tickets taken.
        What the transaction wrote so far is sent first: its errors stay its own (a lone
        command's roll the transaction back before anyone has joined)."""
        while size < MAX_BATCH and self._queue:
            tx.flush()
            with self._mutex:
                taken = self._queue[:MAX_BATCH - size]
                del self._queue[:len(taken)]
            batch.extend(taken)
            size += len(taken)
            for ticket in taken:
                self._one(tx, ticket)

    def _committed(self, lone: int, tickets: Sequence[_Ticket[Any]]) -> None:
        """Count a durable commit: a lone command (`lone` 1) and `tickets` (those whose
        work failed in their savepoint wrote nothing)."""
        self.batches += 1
        telemetry.batch_committed(lone + len(tickets))
        self.writes += lone + (sum(1 for t in tickets if t.error is None) if tickets else 0)

    @staticmethod
    def _failed(batch: Sequence[_Ticket[Any]], exc: BaseException) -> None:
        """The transaction was not committed: every ticket of it gets the error."""
        for ticket in batch:
            if ticket.error is None:
                ticket.error = exc

    @staticmethod
    def _one(tx: StoreTransaction, ticket: _Ticket[Any]) -> None:
        """`ticket`'s work in its own savepoint: its error is its own. Its result is read
        only once the transaction is committed (else the commit's error is its)."""
        try:
            with tx.savepoint():  # undone alone; the store's errors come as the library's
                ticket.result = ticket.work(tx, True)
        except Exception as exc:  # a conflict, a refused value, domain code, a bind error
            ticket.error = exc
