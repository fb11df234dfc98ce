"""Dict folding (`Projection(..., row_form="dict")`) gives exactly what the model path gives:
for random shipping histories (nested models, enums, datetimes in several zones, floats,
decimals) and bank histories, on every adapter, the rows and the lineage projected live by
the dict handlers equal what the example's model handlers rebuild from the same log, and
the other way round; a dict refused by the row model is refused as the model would be."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.test_rebuild_lineage as rebuild_cases
import tests.test_shipping_properties as shipping_cases
from incident_core import Application, Command
from incident_core.domain import Domain
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.bank.accounts import AccountOpened, MoneyDeposited
from incident_core.examples.bank.projections import AccountRow
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from incident_core.projections import Projection
from tests.dict_rows_domains import bank_dicts, shipping_dicts, twin

EXAMPLES = {"memory": 25, "sqlite": 12, "postgres": 8}


def _settings(request: pytest.FixtureRequest) -> Any:
    adapter = request.node.callspec.params["store_target"]
    return settings(max_examples=EXAMPLES[adapter], deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def snapshot(app: Application) -> tuple[dict[str, Any], dict[Any, Any]]:
    rows = {p.name: app.store.projection_rows(p.spec) for p in app.domain.projections.values()}
    return rows, rebuild_cases.lineage_of(app)


def same_both_ways(writer: Application, models: Domain, commands: list[Command]) -> None:
    """The writer (dict handlers) projects live; the model handlers rebuild the same log on
    the same store, then the dict handlers do: all three give the same rows and lineage."""
    for command in commands:
        writer.dispatch(command)
    live = snapshot(writer)
    by_models = Application(writer.store, models)
    run_to_end(rebuild(by_models, sorted(models.projections)))
    assert snapshot(by_models) == live
    run_to_end(rebuild(writer, sorted(writer.domain.projections)))
    assert snapshot(writer) == live


@pytest.fixture
def shipping_writer(store_target: str) -> Iterator[Application]:
    app = Application.open(store_target, shipping_dicts, create=True)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def bank_writer(store_target: str) -> Iterator[Application]:
    app = Application.open(store_target, bank_dicts, create=True)
    try:
        yield app
    finally:
        app.close()


def test_shipping_dict_rows_equal_model_rows(shipping_writer: Application,
                                             request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(scenario=shipping_cases.scenarios())
    def check(scenario: tuple[list[str], str, list[Command]]) -> None:
        same_both_ways(shipping_writer, shipping_domain, scenario[2])

    check()
    spec = shipping_dicts.projections["shipments"].spec
    assert shipping_writer.store.projection_row_count(spec) > 0


def test_bank_dict_rows_equal_model_rows(bank_writer: Application,
                                         request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(commands=rebuild_cases.bank_histories())
    def check(commands: list[Command]) -> None:
        same_both_ways(bank_writer, bank_domain, commands)

    check()
    assert bank_writer.row_history("bank_accounts", "A")


def _refusing(row_form: str, balance: object) -> Domain:
    """The bank with an accounts projection whose deposit handler sets `balance`."""
    accounts: Projection[AccountRow] = Projection("bank_accounts", AccountRow,
                                                  row_form=row_form)  # type: ignore[arg-type]

    @accounts.on(AccountOpened, MoneyDeposited)
    def fields(row: Any, event: Any, recorded: RecordedEvent) -> Any:
        values = {"aggregate_id": recorded.aggregate_id, "account_number": "n",
                  "balance": 0 if row is None else balance, "version": recorded.version,
                  "event_id": recorded.event_id, "event_date": recorded.recorded_at}
        return values if row_form == "dict" else AccountRow(**values)

    return twin(bank_domain, [accounts])


@pytest.mark.parametrize("balance", ["lots", 1.5, None, [1]])
def test_a_dict_is_refused_as_the_row_model_refuses_it(bank: Application,
                                                       balance: object) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=5))
    before = snapshot(bank)
    refused = []
    for row_form in ("model", "dict"):
        app = Application(bank.store, _refusing(row_form, balance))
        with pytest.raises(DomainCodeError) as caught:
            run_to_end(rebuild(app, ["bank_accounts"]))
        refused.append(caught.value)
        assert snapshot(bank) == before  # nothing written
    model, as_dict = refused
    assert str(as_dict) == str(model) and "bank_accounts on MoneyDeposited" in str(model)


def test_a_dict_handler_returning_something_else_is_a_clear_error(bank: Application) -> None:
    odd: Projection[AccountRow] = Projection("bank_accounts", AccountRow, row_form="dict")

    @odd.on(AccountOpened)
    def opened(row: Any, event: Any, recorded: RecordedEvent) -> Any:
        return AccountRow(aggregate_id=recorded.aggregate_id, account_number="n", balance=0,
                          version=1, event_id=recorded.event_id,
                          event_date=recorded.recorded_at)

    bank.dispatch(OpenAccount(aggregate_id="A"))
    app = Application(bank.store, twin(bank_domain, [odd]))
    with pytest.raises(DomainCodeError, match="returned a AccountRow, not a dict"):
        run_to_end(rebuild(app, ["bank_accounts"]))
    with pytest.raises(ValueError, match="row_form"):
        Projection("bank_accounts", AccountRow, row_form="json")  # type: ignore[arg-type]


@given(amounts=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=6))
@settings(max_examples=30, deadline=None)
def test_step_gives_the_same_stored_rows_both_ways(amounts: list[int]) -> None:
    """`Projection.step` (dicts in, dicts out) agrees between the two row forms."""
    app = Application.open("memory:", bank_domain, create=True)
    try:
        app.dispatch(OpenAccount(aggregate_id="A"))
        for amount in amounts:
            app.dispatch(DepositMoney(aggregate_id="A", amount=abs(amount) + 1))
        events = [e for batch in app.store.iter_events() for e in batch]
        rows: dict[str, Any] = {"model": None, "dict": None}
        for recorded in events:
            event = app.domain.decode(recorded.event_type, recorded.data,
                                      recorded.schema_version)
            for form, projection in (("model", bank_domain.projections["bank_accounts"]),
                                     ("dict", bank_dicts.projections["bank_accounts"])):
                stepped = projection.step(rows[form], recorded, event)
                rows[form] = rows[form] if stepped is None else stepped
            assert rows["model"] == rows["dict"]
    finally:
        app.close()
