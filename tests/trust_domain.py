"""A second domain for the trust tests: UUID ids, nested value objects, floats, enums,
datetimes, two process managers (one of which fails on demand) and a projection."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from enum import Enum
from uuid import UUID

from pydantic import BaseModel

from incident_core import (
    Aggregate,
    Command,
    Decision,
    Domain,
    Event,
    ProcessManager,
    Projection,
    RecordedEvent,
    SagaContext,
    State,
)


class Money(BaseModel):
    amount: int
    currency_hint: str | None = None


class EuroMoney(Money):
    """A subclass passed where Money is declared: its extra field is not stored."""

    currency: str = "EUR"


class Leg(BaseModel):
    account: str
    amount: int
    rate: float = 1.0


class Kind(Enum):
    NORMAL = "normal"
    URGENT = "urgent"


class Post(Command):
    aggregate_id: UUID
    legs: list[Leg]
    money: Money = Money(amount=0)
    kind: Kind = Kind.NORMAL
    at: datetime | None = None


class Posted(Event):
    legs: list[Leg]
    money: Money
    total: int
    kind: Kind
    at: datetime | None


class LedgerState(State):
    posts: int = 0
    total: int = 0
    currency: str = "none"


ledger = Aggregate("Ledger", LedgerState())


@ledger.executes(Post)
def post(state: LedgerState, cmd: Post) -> Decision:
    return Posted(legs=cmd.legs, money=cmd.money, total=sum(leg.amount for leg in cmd.legs),
                  kind=cmd.kind, at=cmd.at)


@ledger.applies(Posted)
def posted(state: LedgerState, event: Posted) -> LedgerState:
    return LedgerState(posts=state.posts + 1, total=state.total + event.total,
                       currency=getattr(event.money, "currency", "none"))


class Note(Command):
    text: str


class Noted(Event):
    text: str


class NoteState(State):
    texts: tuple[str, ...] = ()


notes = Aggregate("Notes", NoteState())


@notes.executes(Note)
def note(state: NoteState, cmd: Note) -> Decision:
    return Noted(text=cmd.text)


@notes.applies(Noted)
def noted(state: NoteState, event: Noted) -> NoteState:
    return NoteState(texts=(*state.texts, event.text))


class Counter(Command):
    aggregate_id: int  # type: ignore[assignment]


class Counted(Event):
    pass


counter = Aggregate("Counter", State())


@counter.executes(Counter)
def count(state: State, cmd: Counter) -> Decision:
    return Counted()


@counter.applies(Counted)
def counted(state: State, event: Counted) -> State:
    return state


FAIL = {"auditor": True}  # the "bug" a user fixes before retrying
auditor = ProcessManager("auditor")
echo = ProcessManager("echo")


@auditor.on(Posted)
def audit(event: Posted, recorded: RecordedEvent, ctx: SagaContext) -> None:
    if FAIL["auditor"] and any(leg.account == "boom" for leg in event.legs):
        raise ValueError("boom")
    if FAIL["auditor"] and any(leg.account == "locked" for leg in event.legs):
        # what a store that went away mid-saga raises (not the step's fault: not parked)
        raise sqlite3.OperationalError("database is locked")
    ctx.dispatch(Note(aggregate_id=f"audit-{recorded.aggregate_id}", text="audited"))


@echo.on(Posted)
def echo_posted(event: Posted, recorded: RecordedEvent, ctx: SagaContext) -> None:
    ctx.dispatch(Note(aggregate_id=f"echo-{recorded.aggregate_id}", text=event.kind.value))


mirror = ProcessManager("mirror")


@mirror.on(Posted)
def mirror_urgent(event: Posted, recorded: RecordedEvent, ctx: SagaContext) -> None:
    """Its command's id comes from user data: PostgreSQL cannot store a NUL in it."""
    if event.kind is Kind.URGENT and event.legs:
        ctx.dispatch(Note(aggregate_id=f"urgent-{event.legs[0].account}", text="urgent"))


class LedgerRow(BaseModel):
    aggregate_id: str
    total: int
    rate: float


ledger_rows = Projection("ledger_rows", LedgerRow)


@ledger_rows.on(Posted)
def ledger_row(row: LedgerRow | None, event: Posted, recorded: RecordedEvent) -> LedgerRow:
    total = (row.total if row else 0) + event.total
    return LedgerRow(aggregate_id=recorded.aggregate_id, total=total,
                     rate=event.legs[0].rate if event.legs else 1.0)


domain = Domain("trust-ledger", aggregates=[ledger, notes, counter], projections=[ledger_rows],
                process_managers=[auditor, echo, mirror])
