"""Read models of the bank: `bank_accounts` and `transfers`."""

from __future__ import annotations

from datetime import datetime

from incident_core.envelope import RecordedEvent
from incident_core.examples.bank.accounts import (
    AccountOpened,
    MoneyDeposited,
    MoneyReceived,
    MoneySent,
    MoneySentReverted,
    MoneyWithdrawn,
)
from incident_core.examples.bank.transfers import (
    TransferCancelled,
    TransferCompleted,
    TransferInitiated,
    TransferRequested,
    TransferReverted,
)
from incident_core.projections import Projection, Row

__all__ = ["AccountRow", "TransferRow", "bank_accounts", "transfers"]


class AccountRow(Row):
    aggregate_id: str
    account_number: str
    balance: int
    version: int
    event_id: str
    event_date: datetime


class TransferRow(Row):
    aggregate_id: str
    source_account_number: str
    destination_account_number: str
    amount: int
    status: str
    version: int
    event_id: str
    event_date: datetime


bank_accounts = Projection("bank_accounts", AccountRow)
transfers = Projection("transfers", TransferRow)


_Movement = MoneyDeposited | MoneyReceived | MoneySentReverted | MoneyWithdrawn | MoneySent
_OUT = (MoneyWithdrawn, MoneySent)


@bank_accounts.on(AccountOpened)
def account_opened(row: AccountRow | None, event: AccountOpened,
                   recorded: RecordedEvent) -> AccountRow:
    return AccountRow(aggregate_id=recorded.aggregate_id, account_number=event.account_number,
                      balance=0, version=recorded.version, event_id=recorded.event_id,
                      event_date=recorded.recorded_at)


@bank_accounts.on(MoneyDeposited, MoneyReceived, MoneySentReverted, MoneyWithdrawn, MoneySent)
def balance_changed(row: AccountRow | None, event: _Movement,
                    recorded: RecordedEvent) -> AccountRow | None:
    if row is None:
        return None
    amount = -event.amount if isinstance(event, _OUT) else event.amount
    return row.model_copy(update={"balance": row.balance + amount, "version": recorded.version,
                                  "event_id": recorded.event_id,
                                  "event_date": recorded.recorded_at})


@transfers.on(TransferRequested)
def transfer_requested(row: TransferRow | None, event: TransferRequested,
                       recorded: RecordedEvent) -> TransferRow:
    return TransferRow(aggregate_id=recorded.aggregate_id,
                       source_account_number=event.source_account_number,
                       destination_account_number=event.destination_account_number,
                       amount=event.amount, status="requested", version=recorded.version,
                       event_id=recorded.event_id, event_date=recorded.recorded_at)


_STATUS = {TransferInitiated: "initiated", TransferCompleted: "completed",
           TransferReverted: "reverted", TransferCancelled: "cancelled"}
_StatusChange = TransferInitiated | TransferCompleted | TransferReverted | TransferCancelled


@transfers.on(TransferInitiated, TransferCompleted, TransferReverted, TransferCancelled)
def status_changed(row: TransferRow | None, event: _StatusChange,
                   recorded: RecordedEvent) -> TransferRow | None:
    if row is None:
        return None
    return row.model_copy(update={"status": _STATUS[type(event)], "version": recorded.version,
                                  "event_id": recorded.event_id,
                                  "event_date": recorded.recorded_at})
