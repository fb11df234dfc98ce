"""The library: books lent to members, reservations, and a lending saga (second example).

Books (aggregate ``Book``, id = shelf mark) are added, lent, returned and reserved; members
(aggregate ``Member``, id = card number) register on a plan that limits their loans. The
``lending_saga`` counts each loan against the member (cancelling it when the member is
unknown or at their limit) and hands a returned book to the first member who reserved it.

Run it with ``--domain incident_core.examples.library:domain``.
"""

from incident_core.domain import Domain
from incident_core.examples.library.books import (
    AddBook,
    BookAdded,
    BookLent,
    BookReserved,
    BookReturned,
    BookState,
    CancelLoan,
    Genre,
    HandOverToReserver,
    LendBook,
    LoanCancelled,
    ReserveBook,
    ReturnBook,
    book,
)
from incident_core.examples.library.members import (
    LOAN_LIMITS,
    ChangePlan,
    LoanRecorded,
    MemberRegistered,
    MemberState,
    Plan,
    PlanChanged,
    RecordLoan,
    RecordReturn,
    RegisterMember,
    ReturnRecorded,
    member,
)
from incident_core.examples.library.projections import (
    books_on_loan,
    library_books,
    library_members,
)
from incident_core.examples.library.saga import lending_saga

domain = Domain(
    "library",
    aggregates=[book, member],
    projections=[library_books, books_on_loan, library_members],
    process_managers=[lending_saga],
    public_commands=[AddBook, RegisterMember, LendBook, ReturnBook, ReserveBook, ChangePlan],
)

__all__ = [
    "LOAN_LIMITS",
    "AddBook",
    "BookAdded",
    "BookLent",
    "BookReserved",
    "BookReturned",
    "BookState",
    "CancelLoan",
    "ChangePlan",
    "Genre",
    "HandOverToReserver",
    "LendBook",
    "LoanCancelled",
    "LoanRecorded",
    "MemberRegistered",
    "MemberState",
    "Plan",
    "PlanChanged",
    "RecordLoan",
    "RecordReturn",
    "RegisterMember",
    "ReserveBook",
    "ReturnBook",
    "ReturnRecorded",
    "book",
    "books_on_loan",
    "domain",
    "lending_saga",
    "library_books",
    "library_members",
    "member",
]
