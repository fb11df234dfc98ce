"""Bank accounts: open, deposit, withdraw, and the saga's send / receive / revert."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from incident_core.domain import Aggregate, Command, Decision, Event, Rejection, State

__all__ = [
    "AccountOpened",
    "AccountState",
    "DepositMoney",
    "MoneyDeposited",
    "MoneyReceived",
    "MoneySent",
    "MoneySentReverted",
    "MoneyWithdrawn",
    "OpenAccount",
    "ReceiveMoney",
    "RevertMoneySent",
    "SendMoney",
    "WithdrawMoney",
    "account",
]


class OpenAccount(Command):
    account_number: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="Defaults to the aggregate id")


class DepositMoney(Command):
    amount: PositiveInt


class WithdrawMoney(Command):
    amount: PositiveInt


class SendMoney(Command):
    transfer_id: str = Field(min_length=1)
    amount: PositiveInt


class ReceiveMoney(Command):
    transfer_id: str = Field(min_length=1)
    amount: PositiveInt


class RevertMoneySent(Command):
    transfer_id: str = Field(min_length=1)
    amount: PositiveInt


class AccountOpened(Event):
    account_number: str


class MoneyDeposited(Event):
    amount: int


class MoneyWithdrawn(Event):
    amount: int


class MoneySent(Event):
    transfer_id: str
    amount: int


class MoneyReceived(Event):
    transfer_id: str
    amount: int


class MoneySentReverted(Event):
    transfer_id: str
    amount: int


class AccountState(State):
    account_number: str | None = None
    balance: int = 0

    @property
    def opened(self) -> bool:
        return self.account_number is not None


account: Aggregate[AccountState] = Aggregate("Account", AccountState())
NOT_FOUND = Rejection("account_not_found")


@account.executes(OpenAccount)
def open_account(state: AccountState, cmd: OpenAccount) -> Decision:
    if state.opened:
        return Rejection("account_already_opened")
    return AccountOpened(account_number=cmd.account_number or cmd.aggregate_id)


@account.executes(DepositMoney)
def deposit(state: AccountState, cmd: DepositMoney) -> Decision:
    return MoneyDeposited(amount=cmd.amount) if state.opened else NOT_FOUND


def _take(state: AccountState, amount: int, event: Event) -> Decision:
    if not state.opened:
        return NOT_FOUND
    if state.balance < amount:
        return Rejection("no_enough_balance", f"balance {state.balance} < {amount}")
    return event


@account.executes(WithdrawMoney)
def withdraw(state: AccountState, cmd: WithdrawMoney) -> Decision:
    return _take(state, cmd.amount, MoneyWithdrawn(amount=cmd.amount))


@account.executes(SendMoney)
def send(state: AccountState, cmd: SendMoney) -> Decision:
    return _take(state, cmd.amount, MoneySent(transfer_id=cmd.transfer_id, amount=cmd.amount))


@account.executes(ReceiveMoney)
def receive(state: AccountState, cmd: ReceiveMoney) -> Decision:
    if not state.opened:
        return NOT_FOUND
    return MoneyReceived(transfer_id=cmd.transfer_id, amount=cmd.amount)


@account.executes(RevertMoneySent)
def revert_sent(state: AccountState, cmd: RevertMoneySent) -> Decision:
    if not state.opened:
        return NOT_FOUND
    return MoneySentReverted(transfer_id=cmd.transfer_id, amount=cmd.amount)


@account.applies(AccountOpened)
def opened(state: AccountState, event: AccountOpened) -> AccountState:
    return AccountState(account_number=event.account_number, balance=0)


def _credit(state: AccountState, amount: int) -> AccountState:
    return state.model_copy(update={"balance": state.balance + amount})


@account.applies(MoneyDeposited)
def deposited(state: AccountState, event: MoneyDeposited) -> AccountState:
    return _credit(state, event.amount)


@account.applies(MoneyWithdrawn)
def withdrawn(state: AccountState, event: MoneyWithdrawn) -> AccountState:
    return _credit(state, -event.amount)


@account.applies(MoneySent)
def sent(state: AccountState, event: MoneySent) -> AccountState:
    return _credit(state, -event.amount)


@account.applies(MoneyReceived)
def received(state: AccountState, event: MoneyReceived) -> AccountState:
    return _credit(state, event.amount)


@account.applies(MoneySentReverted)
def sent_reverted(state: AccountState, event: MoneySentReverted) -> AccountState:
    return _credit(state, event.amount)
