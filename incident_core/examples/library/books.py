"""Books: added to the shelves, lent, returned and reserved (a queue of members)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from incident_core.domain import Aggregate, Command, Decision, Event, Rejection, State

__all__ = [
    "AddBook",
    "BookAdded",
    "BookLent",
    "BookReserved",
    "BookReturned",
    "BookState",
    "CancelLoan",
    "Genre",
    "HandOverToReserver",
    "LendBook",
    "LoanCancelled",
    "ReserveBook",
    "ReturnBook",
    "book",
]


class Genre(StrEnum):
    FICTION = "fiction"
    NON_FICTION = "non_fiction"
    CHILDREN = "children"
    REFERENCE = "reference"


LoanDays = Literal[7, 14, 28]


class AddBook(Command):
    """Put a new book on the shelves; the aggregate id is its shelf mark."""

    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=200)
    genre: Genre = Field(description="Where the book is shelved")
    isbn: str | None = Field(default=None, pattern=r"^(\d{9}[\dX]|97[89]\d{10})$",
                             description="ISBN-10 or ISBN-13, digits only")


class LendBook(Command):
    """Lend a book on the shelf to a member (reserved books go to the first reserver)."""

    member_id: str = Field(min_length=1, max_length=200, description="The borrowing member")
    loan_id: UUID = Field(description="Identifies this loan")
    loan_days: LoanDays = Field(default=14, description="How long the member may keep it")


class ReturnBook(Command):
    """The borrower brings the book back."""

    damaged: bool = Field(default=False, description="The book came back damaged")


class ReserveBook(Command):
    """Queue a member for a book that is out on loan."""

    member_id: str = Field(min_length=1, max_length=200, description="The reserving member")


class HandOverToReserver(Command):
    """Internal (lending saga): lend a book back on the shelf to its first reserver."""

    loan_id: UUID


class CancelLoan(Command):
    """Internal (lending saga): undo a loan the member could not take."""

    loan_id: UUID
    reason: str = Field(min_length=1)


class BookAdded(Event):
    title: str
    author: str
    genre: Genre
    isbn: str | None = None


class BookLent(Event):
    member_id: str
    loan_id: UUID
    loan_days: int
    reserved: bool = False  # the borrower was first in the reservation queue


class BookReturned(Event):
    member_id: str
    loan_id: UUID
    damaged: bool = False


class BookReserved(Event):
    member_id: str


class LoanCancelled(Event):
    member_id: str
    loan_id: UUID
    reason: str


class BookState(State):
    title: str | None = None
    lent_to: str | None = None
    loan_id: UUID | None = None
    reservations: tuple[str, ...] = ()

    @property
    def added(self) -> bool:
        return self.title is not None


book: Aggregate[BookState] = Aggregate("Book", BookState())
BOOK_NOT_FOUND = Rejection("book_not_found")


def _lend(state: BookState, member_id: str, loan_id: UUID, loan_days: int) -> Decision:
    if state.lent_to is not None:
        return Rejection("book_already_lent", f"lent to {state.lent_to}")
    if state.reservations and state.reservations[0] != member_id:
        return Rejection("book_reserved", f"reserved for {state.reservations[0]}")
    return BookLent(member_id=member_id, loan_id=loan_id, loan_days=loan_days,
                    reserved=bool(state.reservations))


@book.executes(AddBook)
def add_book(state: BookState, cmd: AddBook) -> Decision:
    if state.added:
        return Rejection("book_already_added")
    return BookAdded(title=cmd.title, author=cmd.author, genre=cmd.genre, isbn=cmd.isbn)


@book.executes(LendBook)
def lend_book(state: BookState, cmd: LendBook) -> Decision:
    if not state.added:
        return BOOK_NOT_FOUND
    return _lend(state, cmd.member_id, cmd.loan_id, cmd.loan_days)


@book.executes(ReturnBook)
def return_book(state: BookState, cmd: ReturnBook) -> Decision:
    if not state.added:
        return BOOK_NOT_FOUND
    if state.lent_to is None or state.loan_id is None:
        return Rejection("book_not_lent")
    return BookReturned(member_id=state.lent_to, loan_id=state.loan_id, damaged=cmd.damaged)


@book.executes(ReserveBook)
def reserve_book(state: BookState, cmd: ReserveBook) -> Decision:
    if not state.added:
        return BOOK_NOT_FOUND
    if state.lent_to is None and not state.reservations:
        return Rejection("book_available", "the book is on the shelf: lend it")
    if cmd.member_id == state.lent_to:
        return Rejection("already_borrowed_by_member")
    if cmd.member_id in state.reservations:
        return Rejection("already_reserved_by_member")
    return BookReserved(member_id=cmd.member_id)


@book.executes(HandOverToReserver)
def hand_over(state: BookState, cmd: HandOverToReserver) -> Decision:
    if not state.added:
        return BOOK_NOT_FOUND
    if not state.reservations:
        return Rejection("no_reservations")
    return _lend(state, state.reservations[0], cmd.loan_id, 14)


@book.executes(CancelLoan)
def cancel_loan(state: BookState, cmd: CancelLoan) -> Decision:
    if not state.added:
        return BOOK_NOT_FOUND
    if state.lent_to is None or state.loan_id != cmd.loan_id:
        return Rejection("loan_not_found", f"loan {cmd.loan_id} is not current")
    return LoanCancelled(member_id=state.lent_to, loan_id=cmd.loan_id, reason=cmd.reason)


@book.applies(BookAdded)
def added(state: BookState, event: BookAdded) -> BookState:
    return BookState(title=event.title)


@book.applies(BookLent)
def lent(state: BookState, event: BookLent) -> BookState:
    queue = tuple(m for m in state.reservations if m != event.member_id)
    return state.model_copy(update={"lent_to": event.member_id, "loan_id": event.loan_id,
                                    "reservations": queue})


def _back_on_shelf(state: BookState, event: BookReturned | LoanCancelled) -> BookState:
    return state.model_copy(update={"lent_to": None, "loan_id": None})


book.applies(BookReturned)(_back_on_shelf)
book.applies(LoanCancelled)(_back_on_shelf)


@book.applies(BookReserved)
def reserved(state: BookState, event: BookReserved) -> BookState:
    return state.model_copy(update={"reservations": (*state.reservations, event.member_id)})
