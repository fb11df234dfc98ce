"""Values the store cannot give back are refused where they enter; live equals replay;
aggregate ids of any type with a canonical string form (every adapter)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import field_serializer

from incident_core import (
    Accepted,
    Aggregate,
    Application,
    Command,
    Domain,
    DomainCodeError,
    Event,
    InvalidCommand,
    ValueRefused,
)
from incident_core.errors import DomainDefinitionError
from incident_core.examples.bank import DepositMoney, OpenAccount, WithdrawMoney, bank_accounts
from incident_core.examples.bank import domain as bank_domain
from tests import trust_domain as t

BIG = 2**63 - 1


@pytest.fixture
def ledger(store_target: str) -> Iterator[Application]:
    t.FAIL["auditor"] = False
    app = Application.open(store_target, t.domain, create=True)
    try:
        yield app
    finally:
        app.close()


def post_data(*legs: dict[str, Any], aggregate_id: str | None = None) -> dict[str, Any]:
    return {"aggregate_id": aggregate_id or str(uuid.uuid4()), "legs": list(legs)}


@pytest.mark.parametrize("rate", [1e999, "nan", "-inf", "Infinity"])
def test_a_non_finite_float_nested_in_a_command_is_refused_by_path(rate: Any) -> None:
    data = post_data({"account": "a", "amount": 1}, {"account": "b", "amount": 2, "rate": rate})
    with pytest.raises(InvalidCommand) as caught:
        t.domain.parse_command("Post", data)
    assert "legs[1].rate" in str(caught.value)
    assert caught.value.details[0]["loc"] == ["legs", 1, "rate"]


def test_non_finite_json_text_is_refused_too() -> None:
    text = ('{"aggregate_id": "' + str(uuid.uuid4())
            + '", "legs": [{"account": "a", "amount": 1, "rate": 1e999}]}')
    with pytest.raises(InvalidCommand, match=r"legs\[0\]\.rate"):
        t.domain.parse_command("Post", text)


def test_an_integer_beyond_64_bits_is_refused_where_it_would_be_stored(
        bank: Application) -> None:
    """A command is not stored, so it may hold any integer; the event it decides may not."""
    bank.dispatch(OpenAccount(aggregate_id="A"))
    command = bank_domain.parse_command("DepositMoney", {"aggregate_id": "A",
                                                         "amount": 10**20})
    with pytest.raises(ValueRefused, match=r"MoneyDeposited\.amount: integer outside"):
        bank.dispatch(command)
    assert bank.store.head() == 1
    legs = t.domain.parse_command("Post", post_data({"account": "a", "amount": -(10**20)}))
    with pytest.raises(ValueRefused, match=r"Posted\.legs\[0\]\.amount"):
        Application(bank.store, t.domain).dispatch(legs)
    assert bank.store.head() == 1


def test_an_event_value_beyond_the_store_is_refused_and_nothing_is_written(
        ledger: Application) -> None:
    command = t.domain.parse_command("Post", post_data({"account": "a", "amount": BIG},
                                                       {"account": "b", "amount": 1}))
    with pytest.raises(ValueRefused, match=r"Posted\.total"):
        ledger.dispatch(command)
    assert ledger.store.head() == 0


def test_a_non_finite_float_an_aggregate_decides_is_refused(ledger: Application) -> None:
    leg = t.Leg.model_construct(account="a", amount=1, rate=float("nan"))
    command = t.Post.model_construct(aggregate_id=uuid.uuid4(), legs=[leg],
                                     money=t.Money(amount=0), kind=t.Kind.NORMAL, at=None)
    with pytest.raises(ValueRefused, match=r"Posted\.legs\[0\]\.rate"):
        ledger.dispatch(command)
    assert ledger.store.head() == 0


def test_a_deposit_beyond_the_balance_column_is_refused_and_the_account_not_stuck(
        bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    assert bank.dispatch(DepositMoney(aggregate_id="A", amount=BIG)).ok
    head = bank.store.head()
    with pytest.raises(ValueRefused, match=r"bank_accounts.*balance"):
        bank.dispatch(DepositMoney(aggregate_id="A", amount=1))
    assert bank.store.head() == head
    assert bank.dispatch(WithdrawMoney(aggregate_id="A", amount=5)).ok
    assert bank.dispatch(DepositMoney(aggregate_id="A", amount=5)).ok
    [row] = bank.store.projection_rows(bank_accounts.spec)
    assert row["balance"] == BIG


def test_live_equals_replay_for_a_subclass_of_a_value_object(store_target: str) -> None:
    app = Application.open(store_target, t.domain, create=True)
    try:
        ledger_id = uuid.uuid4()
        command = t.Post(aggregate_id=ledger_id, legs=[t.Leg(account="a", amount=3)],
                         money=t.EuroMoney(amount=3))
        assert isinstance(app.dispatch(command), Accepted)  # the subclass field is not stored
        live = app.preview(t.Post(aggregate_id=ledger_id, legs=[])).before.state
        replayed = app.state(str(ledger_id))
        assert replayed is not None
        assert live == replayed.state
        assert live.currency == "none"  # what the store holds, not the writer's object
    finally:
        app.close()


def test_uuid_and_int_aggregate_ids_work_on_every_adapter(ledger: Application) -> None:
    ledger_id = uuid.uuid4()
    result = ledger.dispatch(t.Post(aggregate_id=ledger_id, legs=[t.Leg(account="a", amount=2)]))
    assert isinstance(result, Accepted)
    assert result.events[0].aggregate_id == str(ledger_id)
    state = ledger.state(str(ledger_id))
    assert state is not None and state.state.total == 2
    assert ledger.dispatch(t.Post(aggregate_id=ledger_id, legs=[])).ok
    assert ledger.store.stream(str(ledger_id)).version == 2  # type: ignore[union-attr]
    assert ledger.dispatch(t.Counter(aggregate_id=7)).ok
    assert ledger.dispatch(t.Counter(aggregate_id=7)).ok
    assert [e.version for e in ledger.store.read_stream("7")] == [1, 2]
    parsed = t.domain.parse_command("Post", {"aggregate_id": str(ledger_id), "legs": []})
    assert ledger.dispatch(parsed).ok


@pytest.mark.parametrize("annotation", [float, t.Money, int | None, bytes])
def test_a_domain_refuses_an_aggregate_id_without_a_canonical_string(annotation: Any) -> None:
    bad = type("Bad", (Command,), {"__annotations__": {"aggregate_id": annotation}})
    aggregate = Aggregate("Bad", t.LedgerState())
    aggregate.executes(bad)(lambda state, cmd: [])
    with pytest.raises(DomainDefinitionError, match=r"Bad\.aggregate_id .*str, int or UUID"):
        Domain("bad", aggregates=[aggregate])


def test_a_value_no_store_can_keep_in_a_text_column_is_refused_alike_and_writes_nothing(
        bank: Application) -> None:
    """PostgreSQL text cannot hold NUL: refused on every adapter naming the field (not a
    StoreError on PostgreSQL alone), nothing written, store usable."""
    with pytest.raises(ValueRefused, match="aggregate_id: holds a NUL character"):
        bank.dispatch(OpenAccount(aggregate_id="A\x00B"))
    assert bank.store.head() == 0
    assert bank.dispatch(OpenAccount(aggregate_id="A")).ok


def test_metadata_the_store_cannot_give_back_is_refused(bank: Application) -> None:
    with pytest.raises(ValueRefused, match=r"metadata\.score"):
        bank.dispatch(OpenAccount(aggregate_id="A"), metadata={"score": float("inf")})
    assert bank.store.head() == 0


def test_an_event_that_does_not_decode_from_its_own_json_is_domain_code_error(
        store_target: str) -> None:
    class Mark(Command):
        pass

    class Marked(Event):
        at: int

        @field_serializer("at")
        def _text(self, value: int) -> str:
            return f"{value}!"

    aggregate = Aggregate("Mark", t.LedgerState())
    aggregate.executes(Mark)(lambda state, cmd: Marked(at=1))
    aggregate.applies(Marked)(lambda state, event: state)
    with Application.open(store_target, Domain("marks", aggregates=[aggregate]),
                          create=True) as app:
        with pytest.raises(DomainCodeError, match="decoding the new Marked"):
            app.dispatch(Mark(aggregate_id="m"))
        assert app.store.head() == 0
