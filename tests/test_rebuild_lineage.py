"""A rebuild records lineage in its one pass: afterwards every row's lineage is exactly what
projecting the log event by event recorded, for random bank and shipping histories on every
adapter (with the staged lineage written in many small flushes); a rebuild closed half-way
leaves nothing staged and the lineage as it was."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.test_shipping_properties as shipping_cases
from incident_core import Application, Command
from incident_core.engine import lineage
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
)
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.operations import rebuild
from incident_core.ports.values import LineageEntry
from incident_core.progress import run_to_end

EXAMPLES = {"memory": 25, "sqlite": 12, "postgres": 8}
ACCOUNTS = ["A", "B", "C"]
amounts = st.integers(1, 120)


@st.composite
def bank_histories(draw: st.DrawFn) -> list[Command]:
    commands: list[Command] = [OpenAccount(aggregate_id=a) for a in ACCOUNTS[:2]]
    for n in range(draw(st.integers(1, 14))):
        account = draw(st.sampled_from(ACCOUNTS))
        commands.append(draw(st.one_of(
            st.builds(OpenAccount, aggregate_id=st.just(account)),
            st.builds(DepositMoney, aggregate_id=st.just(account), amount=amounts),
            st.builds(WithdrawMoney, aggregate_id=st.just(account), amount=amounts),
            transfers(f"T{n}-{draw(st.uuids())}"))))
    return commands


def transfers(transfer_id: str) -> st.SearchStrategy[RequestTransfer]:
    pairs = st.permutations(ACCOUNTS).map(lambda accounts: accounts[:2])
    return st.builds(lambda pair, amount: RequestTransfer(
        aggregate_id=transfer_id, source_account_number=pair[0],
        destination_account_number=pair[1], amount=amount), pairs, amounts)


def lineage_of(app: Application) -> dict[Any, list[LineageEntry]]:
    """Every row's history, and the rows each position changed, of every projection."""
    out: dict[Any, list[LineageEntry]] = {}
    for position in range(1, app.store.head() + 1):
        changed = app.rows_changed_by(position)
        out[position] = changed
        for entry in changed:
            key = (entry.projection, entry.row_key)
            if key not in out:
                out[key] = app.row_history(*key)
    return out


def rebuilt_equals_live(app: Application, commands: list[Command]) -> None:
    for command in commands:
        app.dispatch(command)  # accepted or rejected: both are part of the story
    live = lineage_of(app)
    rows = {p.name: app.store.projection_rows(p.spec) for p in app.domain.projections.values()}
    run_to_end(rebuild(app, sorted(app.domain.projections)))
    assert lineage_of(app) == live
    assert {p.name: app.store.projection_rows(p.spec)
            for p in app.domain.projections.values()} == rows
    for name in app.domain.projections:
        assert app.store.lineage_start(name + lineage.STAGING) is None  # promoted


@pytest.fixture
def small_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lineage, "FLUSH", 3)  # many staging transactions per rebuild


@pytest.fixture
def bank_app(store_target: str) -> Iterator[Application]:
    app = Application.open(store_target, bank_domain, create=True)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def shipping_app(store_target: str) -> Iterator[Application]:
    app = Application.open(store_target, shipping_domain, create=True)
    try:
        yield app
    finally:
        app.close()


def _settings(request: pytest.FixtureRequest) -> Any:
    adapter = request.node.callspec.params["store_target"]
    return settings(max_examples=EXAMPLES[adapter], deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


def test_rebuilt_bank_lineage_equals_live(bank_app: Application, small_flushes: None,
                                          request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(commands=bank_histories())
    def check(commands: list[Command]) -> None:
        rebuilt_equals_live(bank_app, commands)

    check()
    assert any(bank_app.row_history("bank_accounts", a) for a in ACCOUNTS)


def test_rebuilt_shipping_lineage_equals_live(shipping_app: Application, small_flushes: None,
                                              request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(scenario=shipping_cases.scenarios())
    def check(scenario: tuple[list[str], str, list[Command]]) -> None:
        rebuilt_equals_live(shipping_app, scenario[2])

    check()
    assert shipping_app.store.projection_row_count(
        shipping_domain.projections["shipments"].spec) > 0


def test_a_rebuild_closed_half_way_leaves_no_staged_lineage(
        bank_app: Application, small_flushes: None, monkeypatch: pytest.MonkeyPatch) -> None:
    rebuild_module = importlib.import_module("incident_core.operations.rebuild")
    monkeypatch.setattr(rebuild_module, "PAGE", 4)  # a staging flush after every page
    for n in range(12):
        account = ACCOUNTS[n % 3]
        bank_app.dispatch(OpenAccount(aggregate_id=account) if n < 3
                          else DepositMoney(aggregate_id=account, amount=n))
    live = lineage_of(bank_app)
    operation = rebuild(bank_app, ["bank_accounts"])
    progress = [next(operation) for _ in range(4)]
    assert progress[-1].done >= 8  # two pages folded: staged lineage was written
    operation.close()
    assert lineage_of(bank_app) == live
    for account in ACCOUNTS:
        assert bank_app.store.lineage_events("bank_accounts" + lineage.STAGING, account) == []
    assert bank_app.store.lineage_start("bank_accounts" + lineage.STAGING) is None
