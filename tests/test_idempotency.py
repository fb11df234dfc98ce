"""Idempotent commands: the same key records once, across applications and processes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from incident_core import Accepted, Application, IncidentError
from incident_core.examples.bank import DepositMoney, OpenAccount, WithdrawMoney
from incident_core.examples.bank import domain as bank_domain
from tests.test_cli import incident, ok


def test_the_same_key_returns_the_first_outcome_and_records_nothing(
        bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    first = bank.dispatch(DepositMoney(aggregate_id="A", amount=5), idempotency_key="k-1")
    assert isinstance(first, Accepted) and not first.replayed
    head = bank.store.head()
    again = bank.dispatch(DepositMoney(aggregate_id="A", amount=5), idempotency_key="k-1")
    assert isinstance(again, Accepted) and again.replayed
    assert again.events == first.events
    assert bank.store.head() == head
    state = bank.state("A")
    assert state is not None and state.state.balance == 5  # type: ignore[attr-defined]
    assert bank.dispatch(DepositMoney(aggregate_id="A", amount=5), idempotency_key="k-2").ok
    assert bank.store.head() == head + 1


def test_a_key_is_refused_for_another_command_and_a_rejection_leaves_it_free(
        bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=5), idempotency_key="k")
    with pytest.raises(IncidentError, match="idempotency key 'k' was used for DepositMoney"):
        bank.dispatch(WithdrawMoney(aggregate_id="A", amount=1), idempotency_key="k")
    assert not bank.dispatch(WithdrawMoney(aggregate_id="A", amount=50),
                             idempotency_key="w").ok
    assert bank.dispatch(WithdrawMoney(aggregate_id="A", amount=1), idempotency_key="w").ok
    with pytest.raises(IncidentError, match="empty"):
        bank.dispatch(WithdrawMoney(aggregate_id="A", amount=1), idempotency_key=" ")


def test_a_key_holds_across_applications(shared_target: str) -> None:
    with Application.open(shared_target, bank_domain, create=True) as one:
        one.dispatch(OpenAccount(aggregate_id="A"))
        with Application.open(shared_target, bank_domain) as two:
            assert not two.dispatch(DepositMoney(aggregate_id="A", amount=3),
                                    idempotency_key="x").replayed  # type: ignore[union-attr]
            head = two.store.head()
        result = one.dispatch(DepositMoney(aggregate_id="A", amount=3), idempotency_key="x")
        assert isinstance(result, Accepted) and result.replayed
        assert one.store.head() == head


def test_cli_command_id_retries_record_once(tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    ok("init", db=db)
    ok("dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}', db=db)
    data = '{"aggregate_id": "A", "amount": 7}'
    first = ok("dispatch", "DepositMoney", "--data", data, "--command-id", "pay-1", db=db)
    again = incident("dispatch", "DepositMoney", "--data", data, "--command-id", "pay-1", db=db)
    assert again.code == 0 and again.json["replayed"] is True
    assert again.json["events"] == first["events"]
    assert "nothing was recorded now" in again.err
    assert ok("state", "A", db=db)["state"]["balance"] == 7


def test_writers_racing_with_one_key_record_once(shared_target: str) -> None:
    with Application.open(shared_target, bank_domain, create=True) as setup:
        setup.dispatch(OpenAccount(aggregate_id="A"))
    apps = [Application.open(shared_target, bank_domain) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(apps)) as pool:
            results = list(pool.map(
                lambda app: app.dispatch(DepositMoney(aggregate_id="A", amount=2),
                                         idempotency_key="race"), apps))
        assert all(isinstance(r, Accepted) for r in results)
        assert sum(not r.replayed for r in results) == 1  # type: ignore[union-attr]
        assert [e.event_type for e in apps[0].store.read_stream("A")] == [
            "AccountOpened", "MoneyDeposited"]
    finally:
        for app in apps:
            app.close()
