"""The lending saga: checks loans against members, and hands returned books to reservers.

* ``BookLent`` → ``RecordLoan`` on the member; if the member is unknown or at their limit,
  ``CancelLoan`` puts the book back on the shelf (``LoanCancelled`` with the reason).
* ``BookReturned`` → ``RecordReturn`` on the member, then ``HandOverToReserver``.
* ``LoanCancelled`` → ``HandOverToReserver`` (the next member in the queue gets a chance).
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from incident_core.envelope import RecordedEvent
from incident_core.examples.library.books import (
    BookLent,
    BookReturned,
    CancelLoan,
    HandOverToReserver,
    LoanCancelled,
)
from incident_core.examples.library.members import RecordLoan, RecordReturn
from incident_core.process import ProcessManager, Rejected, SagaContext

__all__ = ["lending_saga"]

lending_saga = ProcessManager("lending_saga")
_LOAN_IDS = uuid5(NAMESPACE_URL, "https://incident.example/library/loans")


def _next_loan_id(cause: RecordedEvent) -> UUID:
    """A loan id derived from the triggering event, so a replayed saga step is identical."""
    return uuid5(_LOAN_IDS, cause.event_id)


@lending_saga.on(BookLent)
def on_lent(event: BookLent, recorded: RecordedEvent, ctx: SagaContext) -> None:
    outcome = ctx.dispatch(RecordLoan(aggregate_id=event.member_id,
                                      book_id=recorded.aggregate_id, loan_id=event.loan_id))
    if isinstance(outcome, Rejected):
        ctx.dispatch(CancelLoan(aggregate_id=recorded.aggregate_id, loan_id=event.loan_id,
                                reason=outcome.reason))


@lending_saga.on(BookReturned)
def on_returned(event: BookReturned, recorded: RecordedEvent, ctx: SagaContext) -> None:
    ctx.dispatch(RecordReturn(aggregate_id=event.member_id, book_id=recorded.aggregate_id,
                              loan_id=event.loan_id))
    ctx.dispatch(HandOverToReserver(aggregate_id=recorded.aggregate_id,
                                    loan_id=_next_loan_id(recorded)))


@lending_saga.on(LoanCancelled)
def on_cancelled(event: LoanCancelled, recorded: RecordedEvent, ctx: SagaContext) -> None:
    ctx.dispatch(HandOverToReserver(aggregate_id=recorded.aggregate_id,
                                    loan_id=_next_loan_id(recorded)))
