"""Transfers between accounts: a state machine driven by the transfer saga."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from incident_core.domain import Aggregate, Command, Decision, Event, Rejection, State

__all__ = [
    "CancelTransfer",
    "CompleteTransfer",
    "InitiateTransfer",
    "RequestTransfer",
    "RevertTransfer",
    "TransferCancelled",
    "TransferCompleted",
    "TransferInitiated",
    "TransferRequested",
    "TransferReverted",
    "TransferState",
    "transfer",
]

Status = Literal["requested", "initiated", "completed", "reverted", "cancelled"]


class RequestTransfer(Command):
    source_account_number: str = Field(min_length=1)
    destination_account_number: str = Field(min_length=1)
    amount: PositiveInt

    @model_validator(mode="after")
    def _distinct_accounts(self) -> RequestTransfer:
        if self.source_account_number == self.destination_account_number:
            raise ValueError("source and destination accounts must differ")
        return self


class InitiateTransfer(Command):
    pass


class CompleteTransfer(Command):
    pass


class RevertTransfer(Command):
    pass


class CancelTransfer(Command):
    reason: str = ""


class _TransferFacts(Event):
    source_account_number: str
    destination_account_number: str
    amount: int


class TransferRequested(_TransferFacts):
    pass


class TransferInitiated(_TransferFacts):
    pass


class TransferCompleted(Event):
    pass


class TransferReverted(_TransferFacts):
    pass


class TransferCancelled(Event):
    reason: str = ""


class TransferState(State):
    status: Status | None = None
    source_account_number: str | None = None
    destination_account_number: str | None = None
    amount: int = 0

    def facts(self) -> dict[str, object]:
        return {"source_account_number": self.source_account_number,
                "destination_account_number": self.destination_account_number,
                "amount": self.amount}


transfer: Aggregate[TransferState] = Aggregate("Transfer", TransferState())


def _guard(state: TransferState, *allowed: Status) -> Rejection | None:
    if state.status is None:
        return Rejection("transfer_not_found")
    if state.status not in allowed:
        return Rejection("transfer_status_invalid", f"transfer is {state.status}")
    return None


@transfer.executes(RequestTransfer)
def request(state: TransferState, cmd: RequestTransfer) -> Decision:
    if state.status is not None:
        return Rejection("transfer_status_invalid", f"transfer is {state.status}")
    return TransferRequested(source_account_number=cmd.source_account_number,
                             destination_account_number=cmd.destination_account_number,
                             amount=cmd.amount)


@transfer.executes(InitiateTransfer)
def initiate(state: TransferState, cmd: InitiateTransfer) -> Decision:
    return _guard(state, "requested") or TransferInitiated.model_validate(state.facts())


@transfer.executes(CompleteTransfer)
def complete(state: TransferState, cmd: CompleteTransfer) -> Decision:
    return _guard(state, "initiated") or TransferCompleted()


@transfer.executes(RevertTransfer)
def revert(state: TransferState, cmd: RevertTransfer) -> Decision:
    return _guard(state, "initiated") or TransferReverted.model_validate(state.facts())


@transfer.executes(CancelTransfer)
def cancel(state: TransferState, cmd: CancelTransfer) -> Decision:
    return _guard(state, "requested", "reverted") or TransferCancelled(reason=cmd.reason)


@transfer.applies(TransferRequested)
def requested(state: TransferState, event: TransferRequested) -> TransferState:
    return TransferState(status="requested", source_account_number=event.source_account_number,
                         destination_account_number=event.destination_account_number,
                         amount=event.amount)


def _status(status: Status) -> Callable[[TransferState, Event], TransferState]:
    def step(state: TransferState, event: Event) -> TransferState:
        return state.model_copy(update={"status": status})
    return step


transfer.applies(TransferInitiated)(_status("initiated"))
transfer.applies(TransferCompleted)(_status("completed"))
transfer.applies(TransferReverted)(_status("reverted"))
transfer.applies(TransferCancelled)(_status("cancelled"))
