"""The library example domain (second domain), against every store adapter."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from incident_core import Accepted, Application, InvalidCommand, Rejected
from incident_core.examples.library import (
    AddBook,
    ChangePlan,
    Genre,
    LendBook,
    Plan,
    RegisterMember,
    ReserveBook,
    ReturnBook,
    books_on_loan,
    domain,
    library_books,
    library_members,
)


@pytest.fixture
def library(store_target: str) -> Iterator[Application]:
    app = Application.open(store_target, domain, create=True)
    try:
        yield app
    finally:
        app.close()


def rows(app: Application, projection: Any) -> dict[str, dict[str, Any]]:
    return {r["aggregate_id"]: r for r in app.store.projection_rows(projection.spec)}


def types_of(app: Application, aggregate_id: str) -> list[str]:
    return [e.event_type for e in app.store.read_stream(aggregate_id)]


def lend(app: Application, book_id: str, member_id: str) -> Any:
    return app.dispatch(LendBook(aggregate_id=book_id, member_id=member_id, loan_id=uuid4()))


def seed(app: Application) -> None:
    app.dispatch(AddBook(aggregate_id="B1", title="Dune", author="Herbert", genre=Genre.FICTION))
    app.dispatch(RegisterMember(aggregate_id="ann", name="Ann", deposit=Decimal("5.50")))
    app.dispatch(RegisterMember(aggregate_id="bob", name="Bob"))


def test_lend_and_return_update_every_read_model(library: Application) -> None:
    seed(library)
    loan_id = uuid4()
    result = library.dispatch(LendBook(aggregate_id="B1", member_id="ann", loan_id=loan_id,
                                       loan_days=7))
    assert isinstance(result, Accepted)
    assert [e.event_type for e in result.events] == ["BookLent"]
    assert types_of(library, "ann") == ["MemberRegistered", "LoanRecorded"]
    loan = rows(library, books_on_loan)["B1"]
    assert (loan["member_id"], loan["loan_id"], loan["loan_days"]) == ("ann", str(loan_id), 7)
    assert rows(library, library_books)["B1"]["status"] == "on_loan"
    member = rows(library, library_members)["ann"]
    assert (member["loans"], Decimal(member["deposit"])) == (1, Decimal("5.50"))

    assert library.dispatch(ReturnBook(aggregate_id="B1", damaged=True)).ok
    assert types_of(library, "ann")[-1] == "ReturnRecorded"
    assert "B1" not in rows(library, books_on_loan)
    assert rows(library, library_books)["B1"] | {"version": 0} == {
        "aggregate_id": "B1", "title": "Dune", "author": "Herbert", "genre": "fiction",
        "status": "on_shelf", "borrower": None, "reservations": 0, "version": 0}
    assert rows(library, library_members)["ann"]["loans"] == 0


def test_book_rejections(library: Application) -> None:
    seed(library)
    assert lend(library, "nope", "ann") == Rejected("book_not_found")
    assert library.dispatch(AddBook(aggregate_id="B1", title="x", author="y",
                                    genre=Genre.REFERENCE)) == Rejected("book_already_added")
    assert library.dispatch(ReturnBook(aggregate_id="B1")) == Rejected("book_not_lent")
    assert library.dispatch(ReserveBook(aggregate_id="B1", member_id="bob")).reason == (
        "book_available")
    assert lend(library, "B1", "ann").ok
    head = library.store.head()
    assert lend(library, "B1", "bob") == Rejected("book_already_lent", "lent to ann")
    assert library.dispatch(ReserveBook(aggregate_id="B1", member_id="ann")) == Rejected(
        "already_borrowed_by_member")
    assert library.store.head() == head


def test_member_rejections(library: Application) -> None:
    seed(library)
    assert library.dispatch(ChangePlan(aggregate_id="zed", plan=Plan.PREMIUM)) == Rejected(
        "member_not_found")
    assert library.dispatch(ChangePlan(aggregate_id="bob", plan=Plan.STANDARD)) == Rejected(
        "plan_unchanged")
    assert library.dispatch(RegisterMember(aggregate_id="bob", name="Bob")) == Rejected(
        "member_already_registered")


def test_lending_to_an_unknown_member_is_cancelled_by_the_saga(library: Application) -> None:
    seed(library)
    assert lend(library, "B1", "ghost").ok
    assert types_of(library, "B1") == ["BookAdded", "BookLent", "LoanCancelled"]
    cancelled = library.store.read_stream("B1")[-1]
    assert cancelled.data["reason"] == "member_not_found"
    lent = library.store.read_stream("B1")[1]
    assert cancelled.causation_id == lent.event_id
    assert cancelled.correlation_id == lent.correlation_id
    assert "B1" not in rows(library, books_on_loan)
    assert rows(library, library_books)["B1"]["status"] == "on_shelf"


def test_the_loan_limit_depends_on_the_plan(library: Application) -> None:
    seed(library)
    for number in range(4):
        library.dispatch(AddBook(aggregate_id=f"X{number}", title=f"Book {number}",
                                 author="A", genre=Genre.CHILDREN))
        assert lend(library, f"X{number}", "bob").ok
    assert types_of(library, "X3")[-1] == "LoanCancelled"
    assert library.store.read_stream("X3")[-1].data["reason"] == "loan_limit_reached"
    assert rows(library, library_members)["bob"]["loans"] == 3
    assert library.dispatch(ChangePlan(aggregate_id="bob", plan=Plan.PREMIUM)).ok
    assert lend(library, "X3", "bob").ok
    assert rows(library, books_on_loan)["X3"]["member_id"] == "bob"
    downgrade = library.dispatch(ChangePlan(aggregate_id="bob", plan=Plan.STANDARD))
    assert isinstance(downgrade, Rejected) and downgrade.reason == "too_many_loans_for_plan"


def test_a_returned_book_goes_to_the_first_reserver(library: Application) -> None:
    seed(library)
    library.dispatch(RegisterMember(aggregate_id="cat", name="Cat", plan=Plan.PREMIUM))
    assert lend(library, "B1", "ann").ok
    for reserver in ("ghost", "bob", "cat"):
        assert library.dispatch(ReserveBook(aggregate_id="B1", member_id=reserver)).ok
    assert library.dispatch(ReserveBook(aggregate_id="B1", member_id="bob")) == Rejected(
        "already_reserved_by_member")
    assert rows(library, library_books)["B1"]["reservations"] == 3

    assert library.dispatch(ReturnBook(aggregate_id="B1")).ok
    # ghost is not a member: the saga cancels that loan and hands the book on to bob.
    tail = [(e.event_type, e.data.get("member_id")) for e in library.store.read_stream("B1")][-4:]
    assert tail == [("BookReturned", "ann"), ("BookLent", "ghost"), ("LoanCancelled", "ghost"),
                    ("BookLent", "bob")]
    assert rows(library, books_on_loan)["B1"]["member_id"] == "bob"
    assert rows(library, books_on_loan)["B1"]["reserved"] is True
    book_row = rows(library, library_books)["B1"]
    assert (book_row["borrower"], book_row["reservations"]) == ("bob", 1)
    # Only the first reserver may borrow a reserved book that is back on the shelf.
    assert library.dispatch(ReturnBook(aggregate_id="B1")).ok
    assert rows(library, books_on_loan)["B1"]["member_id"] == "cat"


def test_saga_loan_ids_are_derived_from_the_cause(library: Application) -> None:
    seed(library)
    assert lend(library, "B1", "ann").ok
    library.dispatch(ReserveBook(aggregate_id="B1", member_id="bob"))
    library.dispatch(ReturnBook(aggregate_id="B1"))
    returned, handed = library.store.read_stream("B1")[-2:]
    from incident_core.examples.library.saga import _next_loan_id

    assert UUID(handed.data["loan_id"]) == _next_loan_id(returned)


def test_state_replay_matches_the_projection(library: Application) -> None:
    seed(library)
    lend(library, "B1", "ann")
    state = library.state("B1")
    assert state is not None and state.aggregate_type == "Book"
    assert state.state.model_dump()["lent_to"] == rows(library, library_books)["B1"]["borrower"]


@pytest.mark.parametrize(("name", "data", "field"), [
    ("RegisterMember", {"aggregate_id": "m", "name": "M", "deposit": "1.234"}, "deposit"),
    ("RegisterMember", {"aggregate_id": "m", "name": "M", "deposit": "-1"}, "deposit"),
    ("RegisterMember", {"aggregate_id": "m", "name": "M", "plan": "gold"}, "plan"),
    ("AddBook", {"aggregate_id": "b", "title": "t", "author": "a", "genre": "fiction",
                 "isbn": "12"}, "isbn"),
    ("LendBook", {"aggregate_id": "b", "member_id": "m", "loan_id": "not-a-uuid"}, "loan_id"),
    ("LendBook", {"aggregate_id": "b", "member_id": "m", "loan_id": str(uuid4()),
                  "loan_days": 10}, "loan_days"),
])
def test_invalid_input_names_the_field(name: str, data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidCommand) as caught:
        domain.parse_command(name, data)
    assert [d["loc"][0] for d in caught.value.details] == [field]


def test_public_commands_and_projections() -> None:
    assert domain.public_command_names == ["AddBook", "RegisterMember", "LendBook",
                                           "ReturnBook", "ReserveBook", "ChangePlan"]
    assert set(domain.command_types) - set(domain.public_command_names) == {
        "HandOverToReserver", "CancelLoan", "RecordLoan", "RecordReturn"}
    assert sorted(domain.projections) == ["books_on_loan", "library_books", "library_members"]
