"""The transfer saga: moves money between two accounts, or cancels and reverts."""

from __future__ import annotations

from incident_core.envelope import RecordedEvent
from incident_core.examples.bank.accounts import ReceiveMoney, RevertMoneySent, SendMoney
from incident_core.examples.bank.transfers import (
    CancelTransfer,
    CompleteTransfer,
    InitiateTransfer,
    RevertTransfer,
    TransferCancelled,
    TransferCompleted,
    TransferInitiated,
    TransferRequested,
    TransferReverted,
)
from incident_core.process import ProcessManager, SagaContext

__all__ = ["transfer_saga"]

# A reverted transfer is not over: the saga still gives the money back, then cancels it.
transfer_saga = ProcessManager("transfer_saga",
                               final_event_types=(TransferCompleted, TransferCancelled))


@transfer_saga.on(TransferRequested)
def on_requested(event: TransferRequested, recorded: RecordedEvent, ctx: SagaContext) -> None:
    """Take the money from the source; initiate the transfer, or cancel it."""
    transfer_id = recorded.aggregate_id
    sent = ctx.dispatch(SendMoney(aggregate_id=event.source_account_number,
                                  transfer_id=transfer_id, amount=event.amount))
    if sent.ok:
        ctx.dispatch(InitiateTransfer(aggregate_id=transfer_id))
    else:
        ctx.dispatch(CancelTransfer(aggregate_id=transfer_id, reason=getattr(sent, "reason", "")))


@transfer_saga.on(TransferInitiated)
def on_initiated(event: TransferInitiated, recorded: RecordedEvent, ctx: SagaContext) -> None:
    """Give the money to the destination; complete the transfer, or revert it."""
    transfer_id = recorded.aggregate_id
    received = ctx.dispatch(ReceiveMoney(aggregate_id=event.destination_account_number,
                                         transfer_id=transfer_id, amount=event.amount))
    if received.ok:
        ctx.dispatch(CompleteTransfer(aggregate_id=transfer_id))
    else:
        ctx.dispatch(RevertTransfer(aggregate_id=transfer_id))


@transfer_saga.on(TransferReverted)
def on_reverted(event: TransferReverted, recorded: RecordedEvent, ctx: SagaContext) -> None:
    """Give the money back to the source and cancel the transfer."""
    transfer_id = recorded.aggregate_id
    ctx.dispatch(RevertMoneySent(aggregate_id=event.source_account_number,
                                 transfer_id=transfer_id, amount=event.amount))
    ctx.dispatch(CancelTransfer(aggregate_id=transfer_id, reason="destination_not_found"))
