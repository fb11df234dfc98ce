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
    rejection_messages={
        "book_not_found": "There is no such book",
        "book_already_lent": "The book is already lent",
        "book_reserved": "The book is reserved for someone else",
        "book_already_added": "This book is already in the catalogue",
        "book_not_lent": "The book is not lent",
        "book_available": "The book is available: nothing to reserve",
        "already_borrowed_by_member": "The member already has this book",
        "already_reserved_by_member": "The member has already reserved this book",
        "no_reservations": "Nobody has reserved this book",
        "loan_not_found": "There is no such loan",
        "member_not_found": "There is no such member",
        "member_already_registered": "This member is already registered",
        "plan_unchanged": "The member is already on this plan",
        "too_many_loans_for_plan": "The member has more loans than that plan allows",
        "loan_limit_reached": "The member has reached the loan limit",
    },
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
