"""Members: registered with a plan that limits how many books they may borrow at once."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from incident_core.domain import Aggregate, Command, Decision, Event, Rejection, State

__all__ = [
    "LOAN_LIMITS",
    "ChangePlan",
    "LoanRecorded",
    "MemberRegistered",
    "MemberState",
    "Plan",
    "PlanChanged",
    "RecordLoan",
    "RecordReturn",
    "RegisterMember",
    "ReturnRecorded",
    "member",
]


class Plan(StrEnum):
    STANDARD = "standard"
    PREMIUM = "premium"


LOAN_LIMITS = {Plan.STANDARD: 3, Plan.PREMIUM: 10}


class RegisterMember(Command):
    """Register a library member; the aggregate id is the member's card number."""

    name: str = Field(min_length=1, max_length=120)
    plan: Plan = Field(default=Plan.STANDARD, description="standard: 3 loans, premium: 10")
    deposit: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=8, decimal_places=2,
                             description="Refundable deposit paid at registration")


class ChangePlan(Command):
    """Move a member to another plan (not below the books they hold)."""

    plan: Plan


class RecordLoan(Command):
    """Internal (lending saga): count a loan against the member's limit."""

    book_id: str = Field(min_length=1)
    loan_id: UUID


class RecordReturn(Command):
    """Internal (lending saga): the member no longer holds the book."""

    book_id: str = Field(min_length=1)
    loan_id: UUID


class MemberRegistered(Event):
    name: str
    plan: Plan
    deposit: Decimal


class PlanChanged(Event):
    plan: Plan


class LoanRecorded(Event):
    book_id: str
    loan_id: UUID


class ReturnRecorded(Event):
    book_id: str
    loan_id: UUID


class MemberState(State):
    name: str | None = None
    plan: Plan = Plan.STANDARD
    loans: tuple[UUID, ...] = ()

    @property
    def registered(self) -> bool:
        return self.name is not None


member: Aggregate[MemberState] = Aggregate("Member", MemberState())
MEMBER_NOT_FOUND = Rejection("member_not_found")


@member.executes(RegisterMember)
def register(state: MemberState, cmd: RegisterMember) -> Decision:
    if state.registered:
        return Rejection("member_already_registered")
    return MemberRegistered(name=cmd.name, plan=cmd.plan, deposit=cmd.deposit)


@member.executes(ChangePlan)
def change_plan(state: MemberState, cmd: ChangePlan) -> Decision:
    if not state.registered:
        return MEMBER_NOT_FOUND
    if cmd.plan == state.plan:
        return Rejection("plan_unchanged")
    if len(state.loans) > LOAN_LIMITS[cmd.plan]:
        return Rejection("too_many_loans_for_plan",
                         f"holds {len(state.loans)} books, {cmd.plan} allows "
                         f"{LOAN_LIMITS[cmd.plan]}")
    return PlanChanged(plan=cmd.plan)


@member.executes(RecordLoan)
def record_loan(state: MemberState, cmd: RecordLoan) -> Decision:
    if not state.registered:
        return MEMBER_NOT_FOUND
    limit = LOAN_LIMITS[state.plan]
    if len(state.loans) >= limit:
        return Rejection("loan_limit_reached", f"{state.plan} plan allows {limit} books")
    return LoanRecorded(book_id=cmd.book_id, loan_id=cmd.loan_id)


@member.executes(RecordReturn)
def record_return(state: MemberState, cmd: RecordReturn) -> Decision:
    if not state.registered:
        return MEMBER_NOT_FOUND
    if cmd.loan_id not in state.loans:
        return Rejection("loan_not_found", f"loan {cmd.loan_id} is not held")
    return ReturnRecorded(book_id=cmd.book_id, loan_id=cmd.loan_id)


@member.applies(MemberRegistered)
def registered(state: MemberState, event: MemberRegistered) -> MemberState:
    return MemberState(name=event.name, plan=event.plan)


@member.applies(PlanChanged)
def plan_changed(state: MemberState, event: PlanChanged) -> MemberState:
    return state.model_copy(update={"plan": event.plan})


@member.applies(LoanRecorded)
def loan_recorded(state: MemberState, event: LoanRecorded) -> MemberState:
    return state.model_copy(update={"loans": (*state.loans, event.loan_id)})


@member.applies(ReturnRecorded)
def return_recorded(state: MemberState, event: ReturnRecorded) -> MemberState:
    loans = tuple(loan for loan in state.loans if loan != event.loan_id)
    return state.model_copy(update={"loans": loans})
