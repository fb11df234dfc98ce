"""Read models of the library: `library_books`, `books_on_loan` and `library_members`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from incident_core.envelope import RecordedEvent
from incident_core.examples.library.books import (
    BookAdded,
    BookLent,
    BookReserved,
    BookReturned,
    Genre,
    LoanCancelled,
)
from incident_core.examples.library.members import (
    LoanRecorded,
    MemberRegistered,
    Plan,
    PlanChanged,
    ReturnRecorded,
)
from incident_core.projections import DELETE, Delete, Projection, Row

__all__ = ["BookRow", "LoanRow", "MemberRow", "books_on_loan", "library_books",
           "library_members"]


class BookRow(Row):
    aggregate_id: str
    title: str
    author: str
    genre: Genre
    status: Literal["on_shelf", "on_loan"]
    borrower: str | None
    reservations: int
    version: int


class LoanRow(Row):
    aggregate_id: str
    member_id: str
    loan_id: UUID
    loan_days: int
    reserved: bool
    lent_at: datetime


class MemberRow(Row):
    aggregate_id: str
    name: str
    plan: Plan
    deposit: Decimal
    loans: int
    version: int


library_books = Projection("library_books", BookRow)
books_on_loan = Projection("books_on_loan", LoanRow)
library_members = Projection("library_members", MemberRow)


@library_books.on(BookAdded)
def book_added(row: BookRow | None, event: BookAdded, recorded: RecordedEvent) -> BookRow:
    return BookRow(aggregate_id=recorded.aggregate_id, title=event.title, author=event.author,
                   genre=event.genre, status="on_shelf", borrower=None, reservations=0,
                   version=recorded.version)


@library_books.on(BookLent)
def book_lent(row: BookRow | None, event: BookLent, recorded: RecordedEvent) -> BookRow | None:
    if row is None:
        return None
    waiting = row.reservations - 1 if event.reserved else row.reservations
    return row.model_copy(update={"status": "on_loan", "borrower": event.member_id,
                                  "reservations": max(0, waiting),
                                  "version": recorded.version})


def _on_shelf(row: BookRow | None, event: BookReturned | LoanCancelled,
              recorded: RecordedEvent) -> BookRow | None:
    if row is None:
        return None
    return row.model_copy(update={"status": "on_shelf", "borrower": None,
                                  "version": recorded.version})


library_books.on(BookReturned)(_on_shelf)
library_books.on(LoanCancelled)(_on_shelf)


@library_books.on(BookReserved)
def book_reserved(row: BookRow | None, event: BookReserved,
                  recorded: RecordedEvent) -> BookRow | None:
    if row is None:
        return None
    return row.model_copy(update={"reservations": row.reservations + 1,
                                  "version": recorded.version})


@books_on_loan.on(BookLent)
def loan_started(row: LoanRow | None, event: BookLent, recorded: RecordedEvent) -> LoanRow:
    return LoanRow(aggregate_id=recorded.aggregate_id, member_id=event.member_id,
                   loan_id=event.loan_id, loan_days=event.loan_days, reserved=event.reserved,
                   lent_at=recorded.recorded_at)


def _loan_ended(row: LoanRow | None, event: BookReturned | LoanCancelled,
                recorded: RecordedEvent) -> Delete:
    return DELETE


books_on_loan.on(BookReturned)(_loan_ended)
books_on_loan.on(LoanCancelled)(_loan_ended)


@library_members.on(MemberRegistered)
def member_registered(row: MemberRow | None, event: MemberRegistered,
                      recorded: RecordedEvent) -> MemberRow:
    return MemberRow(aggregate_id=recorded.aggregate_id, name=event.name, plan=event.plan,
                     deposit=event.deposit, loans=0, version=recorded.version)


@library_members.on(PlanChanged)
def member_plan_changed(row: MemberRow | None, event: PlanChanged,
                        recorded: RecordedEvent) -> MemberRow | None:
    if row is None:
        return None
    return row.model_copy(update={"plan": event.plan, "version": recorded.version})


def _with_loans(row: MemberRow | None, delta: int, version: int) -> MemberRow | None:
    if row is None:
        return None
    return row.model_copy(update={"loans": row.loans + delta, "version": version})


@library_members.on(LoanRecorded)
def member_loan_recorded(row: MemberRow | None, event: LoanRecorded,
                         recorded: RecordedEvent) -> MemberRow | None:
    return _with_loans(row, +1, recorded.version)


@library_members.on(ReturnRecorded)
def member_return_recorded(row: MemberRow | None, event: ReturnRecorded,
                           recorded: RecordedEvent) -> MemberRow | None:
    return _with_loans(row, -1, recorded.version)
