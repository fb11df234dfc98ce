"""The bank: accounts, deposits, withdrawals and transfers as a saga (the reference domain)."""

from incident_core.domain import Domain
from incident_core.examples.bank.accounts import (
    AccountOpened,
    AccountState,
    DepositMoney,
    MoneyDeposited,
    MoneyReceived,
    MoneySent,
    MoneySentReverted,
    MoneyWithdrawn,
    OpenAccount,
    ReceiveMoney,
    RevertMoneySent,
    SendMoney,
    WithdrawMoney,
    account,
)
from incident_core.examples.bank.demo import bank_demo
from incident_core.examples.bank.projections import bank_accounts, transfers
from incident_core.examples.bank.saga import transfer_saga
from incident_core.examples.bank.transfers import (
    CancelTransfer,
    CompleteTransfer,
    InitiateTransfer,
    RequestTransfer,
    RevertTransfer,
    TransferCancelled,
    TransferCompleted,
    TransferInitiated,
    TransferRequested,
    TransferReverted,
    TransferState,
    transfer,
)

domain = Domain(
    "bank",
    aggregates=[account, transfer],
    projections=[bank_accounts, transfers],
    process_managers=[transfer_saga],
    public_commands=[OpenAccount, DepositMoney, WithdrawMoney, RequestTransfer],
    demo=bank_demo,
    rejection_messages={
        "no_enough_balance": "Not enough balance",
        "account_not_found": "There is no such account",
        "account_already_opened": "This account is already open",
        "transfer_not_found": "There is no such transfer",
        "transfer_status_invalid": "The transfer cannot do that in its current status",
    },
)

__all__ = [
    "AccountOpened",
    "AccountState",
    "CancelTransfer",
    "CompleteTransfer",
    "DepositMoney",
    "InitiateTransfer",
    "MoneyDeposited",
    "MoneyReceived",
    "MoneySent",
    "MoneySentReverted",
    "MoneyWithdrawn",
    "OpenAccount",
    "ReceiveMoney",
    "RequestTransfer",
    "RevertMoneySent",
    "RevertTransfer",
    "SendMoney",
    "TransferCancelled",
    "TransferCompleted",
    "TransferInitiated",
    "TransferRequested",
    "TransferReverted",
    "TransferState",
    "WithdrawMoney",
    "account",
    "bank_accounts",
    "domain",
    "transfer",
    "transfer_saga",
    "transfers",
]
