"""The seed's bank integration scenarios, against every store adapter."""

from __future__ import annotations

from typing import Any

from incident_core import Accepted, Application, Rejected
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
    bank_accounts,
    transfers,
)


def types_of(app: Application, aggregate_id: str) -> list[str]:
    return [e.event_type for e in app.store.read_stream(aggregate_id)]


def account_row(app: Application, aggregate_id: str) -> dict[str, Any]:
    rows = {r["aggregate_id"]: r for r in app.store.projection_rows(bank_accounts.spec)}
    return rows[aggregate_id]


def transfer_row(app: Application, aggregate_id: str) -> dict[str, Any]:
    rows = {r["aggregate_id"]: r for r in app.store.projection_rows(transfers.spec)}
    return rows[aggregate_id]


def balance(app: Application, aggregate_id: str) -> int:
    return int(account_row(app, aggregate_id)["balance"])


def test_open_account_records_one_event_and_a_row(bank: Application) -> None:
    result = bank.dispatch(OpenAccount(aggregate_id="A"))
    assert isinstance(result, Accepted)
    [event] = bank.store.read_stream("A")
    assert (event.event_type, event.version, event.data) == ("AccountOpened", 1,
                                                             {"account_number": "A"})
    assert event.event_id and event.recorded_at.tzinfo is not None
    assert event.metadata["command_type"] == "OpenAccount"
    row = account_row(bank, "A")
    assert (row["account_number"], row["balance"], row["version"]) == ("A", 0, 1)
    assert row["event_id"] == event.event_id and row["event_date"]


def test_opening_twice_is_rejected_and_changes_nothing(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    before = account_row(bank, "A")
    result = bank.dispatch(OpenAccount(aggregate_id="A"))
    assert result == Rejected("account_already_opened")
    assert types_of(bank, "A") == ["AccountOpened"]
    assert account_row(bank, "A") == before


def test_two_deposits(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=100))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=100))
    assert types_of(bank, "A") == ["AccountOpened", "MoneyDeposited", "MoneyDeposited"]
    assert [e.version for e in bank.store.read_stream("A")] == [1, 2, 3]
    row = account_row(bank, "A")
    assert (row["balance"], row["version"]) == (200, 3)


def test_deposit_to_unknown_account_is_rejected(bank: Application) -> None:
    assert bank.dispatch(DepositMoney(aggregate_id="nope", amount=1)) == Rejected(
        "account_not_found")
    assert bank.store.head() == 0


def test_withdraw(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=100))
    assert bank.dispatch(WithdrawMoney(aggregate_id="A", amount=100)).ok
    assert types_of(bank, "A") == ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn"]
    row = account_row(bank, "A")
    assert (row["balance"], row["version"]) == (0, 3)


def test_withdraw_without_balance_is_rejected(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    result = bank.dispatch(WithdrawMoney(aggregate_id="A", amount=100))
    assert isinstance(result, Rejected) and result.reason == "no_enough_balance"
    assert types_of(bank, "A") == ["AccountOpened"]
    assert balance(bank, "A") == 0


def test_withdraw_from_unknown_account_is_rejected(bank: Application) -> None:
    assert bank.dispatch(WithdrawMoney(aggregate_id="A", amount=1)) == Rejected(
        "account_not_found")


def _setup_transfer(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=100))
    bank.dispatch(OpenAccount(aggregate_id="B"))


def _transfer(bank: Application, amount: int, source: str = "A", destination: str = "B") -> None:
    assert bank.dispatch(RequestTransfer(aggregate_id="T", source_account_number=source,
                                         destination_account_number=destination,
                                         amount=amount)).ok


def test_transfer_completes(bank: Application) -> None:
    _setup_transfer(bank)
    _transfer(bank, 100)
    assert types_of(bank, "T") == ["TransferRequested", "TransferInitiated", "TransferCompleted"]
    row = transfer_row(bank, "T")
    assert (row["status"], row["version"], row["source_account_number"],
            row["destination_account_number"], row["amount"]) == ("completed", 3, "A", "B", 100)
    assert (balance(bank, "A"), balance(bank, "B")) == (0, 100)
    assert types_of(bank, "A")[-1] == "MoneySent"
    assert types_of(bank, "B")[-1] == "MoneyReceived"


def test_transfer_without_funds_is_cancelled(bank: Application) -> None:
    _setup_transfer(bank)
    _transfer(bank, 101)
    assert types_of(bank, "T") == ["TransferRequested", "TransferCancelled"]
    row = transfer_row(bank, "T")
    assert (row["status"], row["version"], row["amount"]) == ("cancelled", 2, 101)
    assert (balance(bank, "A"), balance(bank, "B")) == (100, 0)


def test_transfer_from_missing_source_is_cancelled(bank: Application) -> None:
    _setup_transfer(bank)
    _transfer(bank, 10, source="ghost")
    assert types_of(bank, "T") == ["TransferRequested", "TransferCancelled"]
    row = transfer_row(bank, "T")
    assert (row["status"], row["version"]) == ("cancelled", 2)
    assert balance(bank, "B") == 0


def test_transfer_to_missing_destination_is_reverted_then_cancelled(bank: Application) -> None:
    _setup_transfer(bank)
    _transfer(bank, 100, destination="ghost")
    assert types_of(bank, "T") == ["TransferRequested", "TransferInitiated",
                                   "TransferReverted", "TransferCancelled"]
    row = transfer_row(bank, "T")
    assert (row["status"], row["version"]) == ("cancelled", 4)
    assert types_of(bank, "A")[-2:] == ["MoneySent", "MoneySentReverted"]
    assert balance(bank, "A") == 100


def test_saga_events_carry_correlation_and_causation(bank: Application) -> None:
    _setup_transfer(bank)
    _transfer(bank, 10)
    requested, initiated, _completed = bank.store.read_stream("T")
    sent = bank.store.read_stream("A")[-1]
    assert sent.causation_id == requested.event_id
    assert sent.correlation_id == requested.correlation_id == initiated.correlation_id
    caused = bank.store.events_with_metadata("causation_id", requested.event_id)
    # the request's command id is its first event's id: its own event, then what it caused
    assert [e.event_type for e in caused] == ["TransferRequested", "MoneySent",
                                              "TransferInitiated"]
    assert requested.causation_id == requested.metadata["command_id"] == requested.event_id


def test_state_at_any_version(bank: Application) -> None:
    _setup_transfer(bank)
    bank.dispatch(WithdrawMoney(aggregate_id="A", amount=30))
    now = bank.state("A")
    assert now is not None and now.version == 3
    assert now.state.model_dump() == {"account_number": "A", "balance": 70}
    then = bank.state("A", at_version=2)
    assert then is not None and then.state.model_dump()["balance"] == 100
    assert bank.state("missing") is None


def test_preview_writes_nothing(bank: Application) -> None:
    _setup_transfer(bank)
    head = bank.store.head()
    preview = bank.preview(WithdrawMoney(aggregate_id="A", amount=30))
    assert preview.ok and [type(e).__name__ for e in preview.events] == ["MoneyWithdrawn"]
    assert preview.after is not None and preview.after.state.model_dump()["balance"] == 70
    rejected = bank.preview(WithdrawMoney(aggregate_id="A", amount=1000))
    assert rejected.rejection == Rejected("no_enough_balance", "balance 100 < 1000")
    assert bank.store.head() == head


def test_command_for_another_aggregate_type_is_rejected(bank: Application) -> None:
    _setup_transfer(bank)
    _transfer(bank, 10)
    result = bank.dispatch(DepositMoney(aggregate_id="T", amount=5))
    assert isinstance(result, Rejected) and result.reason == "wrong_aggregate_type"
