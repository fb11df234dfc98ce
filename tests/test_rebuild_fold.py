"""The rebuild's page fold and what a rebuild refuses.

`ProjectionFold.feed_page` (the rebuild's hot loop) gives exactly what feeding the events one
by one gives: rows, counts, lineage index entries and errors, for model rows, dict rows,
custom keys, capped projections and events stored at an older schema version. A row the
projection's table cannot hold is refused by a rebuild as the live projector refuses it, on
every adapter, and nothing is written. A projection whose only events come at the end of a
long log is rebuilt from pages that read them."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import tests.test_rebuild_lineage as rebuild_cases
import tests.test_shipping_properties as shipping_cases
from incident_core import Application, Command
from incident_core.domain import Domain
from incident_core.engine.lineage import IndexTrail
from incident_core.engine.projector import ProjectionFold
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.examples import shipping
from incident_core.examples.bank import DepositMoney, OpenAccount, RequestTransfer
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.bank.accounts import AccountOpened, MoneyDeposited
from incident_core.examples.bank.projections import AccountRow, bank_accounts, transfers
from incident_core.examples.bank.transfers import TransferRequested
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from incident_core.projections import Projection
from incident_core.values import ValueRefused
from tests import dict_rows_domains, shipping_variants
from tests.dict_rows_domains import twin

rebuild_module = importlib.import_module("incident_core.operations.rebuild")


class SourceRow(BaseModel):
    account: str
    transfers: int
    last: int


by_source = Projection("by_source", SourceRow, key="account")


@by_source.on(TransferRequested, key=lambda recorded, event: event.source_account_number)
def requested(row: SourceRow | None, event: TransferRequested,
              recorded: RecordedEvent) -> SourceRow:
    count = 1 if row is None else row.transfers + 1
    return SourceRow(account=event.source_account_number, transfers=count,
                     last=recorded.position)


accounts_as_dicts = Projection("accounts_as_dicts", AccountRow, row_form="dict")
accounts_as_dicts.on(AccountOpened)(dict_rows_domains.opened)
accounts_as_dicts.on(*[etype for etype in bank_domain.event_types.values()
                       if bank_accounts.handles(etype.__name__)
                       and etype is not AccountOpened])(dict_rows_domains.moved)
capped = Projection("capped", AccountRow)
for _name, (_handler, _) in bank_accounts.handlers.items():
    capped.on(bank_domain.event_types[_name])(_handler)
PROJECTIONS: list[Projection[Any]] = [bank_accounts, transfers, by_source, accounts_as_dicts,
                                      capped]


def folded(domain: Domain, projections: list[Projection[Any]], events: list[RecordedEvent],
           sizes: list[int] | None) -> Any:
    """Rows, counts and index entries of a fold fed one by one (`sizes` None) or in pages."""
    trails = {p.name: IndexTrail(p) for p in projections}
    fold = ProjectionFold(domain, projections, {"capped": len(events) // 2}, trails=trails)
    if sizes is None:
        for recorded in events:
            fold.feed(recorded)
    else:
        start = 0
        for size in [*sizes, len(events)]:
            fold.feed_page(events[start:start + size])
            start += size
    return ({p.name: sorted(fold.rows(p.name), key=str) for p in projections},
            {p.name: (fold.applied(p.name), fold.row_count(p.name)) for p in projections},
            {name: trail.take() for name, trail in trails.items()})


def logged(domain: Domain, commands: list[Command]) -> list[RecordedEvent]:
    app = Application.open("memory:", domain, create=True)
    try:
        for command in commands:
            app.dispatch(command)
        return [e for batch in app.store.iter_events() for e in batch]
    finally:
        app.close()


@given(commands=rebuild_cases.bank_histories(),
       sizes=st.lists(st.integers(0, 7), max_size=6))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_page_fold_gives_what_feeding_each_event_gives(commands: list[Command],
                                                         sizes: list[int]) -> None:
    events = logged(bank_domain, commands)
    one_by_one = folded(bank_domain, PROJECTIONS, events, None)
    assert folded(bank_domain, PROJECTIONS, events, sizes) == one_by_one
    assert one_by_one[1]["bank_accounts"][0] > 0


class BookingRow(BaseModel):
    aggregate_id: str
    incoterm: str


bookings = Projection("bookings", BookingRow)


@bookings.on(shipping_variants.ShipmentBooked)
def booked(row: BookingRow | None, event: shipping_variants.ShipmentBooked,
           recorded: RecordedEvent) -> BookingRow:
    return BookingRow(aggregate_id=recorded.aggregate_id, incoterm=event.incoterm)


@given(scenario=shipping_cases.scenarios())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_events_at_an_older_schema_version_are_upcast_in_a_page_fold(
        scenario: tuple[list[str], str, list[Command]]) -> None:
    events = logged(shipping.domain, scenario[2])
    one_by_one = folded(shipping_variants.v2, [bookings], events, None)
    assert folded(shipping_variants.v2, [bookings], events, [3, 1]) == one_by_one
    rows = one_by_one[0]["bookings"]
    assert all(row["incoterm"] == "FOB" for row in rows)


def _failure(domain: Domain, projections: list[Projection[Any]], events: list[RecordedEvent],
             paged: bool) -> str:
    with pytest.raises(DomainCodeError) as caught:
        folded(domain, projections, events, [2] if paged else None)
    return f"{type(caught.value.original).__name__}: {caught.value}"


def test_a_page_fold_fails_where_and_as_feeding_each_event_fails() -> None:
    events = logged(bank_domain, [OpenAccount(aggregate_id="A"),
                                  *[DepositMoney(aggregate_id="A", amount=n) for n in (1, 2, 3)]])
    fussy = Projection("fussy", AccountRow)
    fussy.on(AccountOpened)(bank_accounts.handlers["AccountOpened"][0])

    @fussy.on(MoneyDeposited)
    def deposited(row: Any, event: MoneyDeposited, recorded: RecordedEvent) -> Any:
        if event.amount == 2:
            raise ValueError(f"no twos (#{recorded.position})")
        return row

    failures = {_failure(bank_domain, [bank_accounts, fussy], events, paged) for paged in
                (False, True)}
    assert failures == {"ValueError: projection fussy on MoneyDeposited raised ValueError: "
                        "no twos (#3)"}
    e = events[2]
    damaged = RecordedEvent(e.position, e.event_id, e.aggregate_id, e.aggregate_type,
                            e.event_type, e.version, e.recorded_at_text, {"amount": "two"},
                            e.metadata_json, e.schema_version)
    bad = [*events[:2], damaged, *events[3:]]
    failures = {_failure(bank_domain, [bank_accounts], bad, paged) for paged in (False, True)}
    assert len(failures) == 1 and "decoding event #3 (MoneyDeposited)" in failures.pop()


def _setting_balance(value: object) -> Domain:
    """The bank with an accounts projection whose deposits copy `value` into the balance
    (`model_copy` does not validate: the row model takes it)."""
    odd: Projection[AccountRow] = Projection("bank_accounts", AccountRow)
    odd.on(AccountOpened)(bank_accounts.handlers["AccountOpened"][0])

    @odd.on(MoneyDeposited)
    def deposited(row: AccountRow | None, event: MoneyDeposited,
                  recorded: RecordedEvent) -> AccountRow | None:
        return None if row is None else row.model_copy(update={"balance": value})

    return twin(bank_domain, [odd])


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic's, dumping the wrong type
@pytest.mark.parametrize(("value", "problem"), [
    (2**70, "balance: integer outside the signed 64-bit range of the column"),
    ("lots", "balance: a str, not a number"),
    (1.5, "balance: not a whole number (an integer column)"),
    (None, "balance: no value"),
])
def test_a_row_the_table_cannot_hold_is_refused_live_and_by_a_rebuild(
        bank: Application, value: object, problem: str) -> None:
    bank.dispatch(OpenAccount(aggregate_id="A"))
    bank.dispatch(DepositMoney(aggregate_id="A", amount=5))
    spec = bank_accounts.spec
    before = bank.store.projection_rows(spec)
    odd = Application(bank.store, _setting_balance(value))
    with pytest.raises(ValueRefused) as refused:
        odd.dispatch(DepositMoney(aggregate_id="A", amount=1))
    assert "projection bank_accounts." + problem in str(refused.value)
    assert "(row 'A', on MoneyDeposited)" in str(refused.value)
    with pytest.raises(DomainCodeError) as failed:
        run_to_end(rebuild(odd, ["bank_accounts"]))
    assert str(failed.value).startswith(  # the first deposit made the row: the rebuild says so
        "projection bank_accounts, row 'A', on MoneyDeposited at position 2 raised ValueError")
    assert problem in str(failed.value)
    assert bank.store.projection_rows(spec) == before and bank.store.head() == 2


def test_a_projection_of_a_rare_type_at_the_end_of_a_long_log_is_rebuilt(
        bank: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild_module, "PAGE", 40)
    for account in ("A", "B"):
        bank.dispatch(OpenAccount(aggregate_id=account))
    bank.dispatch_many([DepositMoney(aggregate_id="AB"[n % 2], amount=1) for n in range(400)])
    assert bank.dispatch(RequestTransfer(aggregate_id="T", source_account_number="A",
                                         destination_account_number="B", amount=3)).ok
    live = bank.store.projection_rows(transfers.spec)
    handled = sum(1 for batch in bank.store.iter_events() for e in batch
                  if transfers.handles(e.event_type))
    report = run_to_end(rebuild(bank, ["transfers"]))
    assert report.events_read == report.projections[0].events_applied == handled >= 2
    assert bank.store.projection_rows(transfers.spec) == live and len(live) == 1
