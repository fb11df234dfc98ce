"""Row lineage derived from the log: for random bank (with a custom-key projection),
shipping (with one too) and trust-domain histories, every row's `row_history`, every event's
`rows_changed_by` and the lineage index equal a reference fold of the log event by event, on
memory, SQLite and PostgreSQL; rejected, refused and rolled-back commands (alone or in a
group-commit batch) leave nothing in the index; a lineage switched off then on says its
history is incomplete until a rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import tests.test_shipping_properties as shipping_cases
from incident_core import Application, Command, IncidentError
from incident_core.engine.lineage import LineageIncomplete
from incident_core.envelope import RecordedEvent
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
)
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.shipping import ShipmentConfirmed
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from incident_core.projections import Projection
from tests import group_commit_domain as g
from tests import trust_domain as t
from tests.lineage_reference import (
    assert_derived_equals_reference,
    flows_projection,
    with_projection,
)
from tests.test_rebuild_lineage import bank_histories
from tests.test_trust_properties import posts

EXAMPLES = {"memory": 12, "sqlite": 6, "postgres": 4}


def _settings(request: pytest.FixtureRequest) -> Any:
    return settings(max_examples=EXAMPLES[request.node.callspec.params["store_target"]],
                    deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


class CountRow(BaseModel):
    key: str
    count: int


def counted(name: str, event_type: type[Any], key: Any) -> Projection[CountRow]:
    """Events of one type counted by a custom key."""
    projection = Projection(name, CountRow, key="key")

    @projection.on(event_type, key=key)
    def count(row: CountRow | None, event: Any, recorded: RecordedEvent) -> CountRow:
        found = row or CountRow(key=key(recorded, event), count=0)
        return found.model_copy(update={"count": found.count + 1})

    return projection


def _dispatch_all(app: Application, commands: list[Command]) -> None:
    for command in commands:
        with suppress(IncidentError):  # accepted, rejected or refused: all in the story
            app.dispatch(command)


@pytest.fixture
def bank_app(store_target: str) -> Iterator[Application]:
    with Application.open(store_target, with_projection(bank_domain, flows_projection()),
                          create=True) as app:
        yield app


def test_bank_rows_and_custom_key_rows_equal_the_reference(
        bank_app: Application, request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(commands=bank_histories())
    def check(commands: list[Command]) -> None:
        _dispatch_all(bank_app, commands)
        assert_derived_equals_reference(bank_app)

    _dispatch_all(bank_app, [OpenAccount(aggregate_id="A"), OpenAccount(aggregate_id="B"),
                             DepositMoney(aggregate_id="A", amount=100),
                             RequestTransfer(aggregate_id="T0", source_account_number="A",
                                             destination_account_number="B", amount=10)])
    check()
    reference = assert_derived_equals_reference(bank_app)
    assert any(name == "transfer_flows" for name, _ in reference.changes)


def test_shipping_rows_equal_the_reference(store_target: str,
                                           request: pytest.FixtureRequest) -> None:
    by_vessel = counted("confirmations_by_vessel", ShipmentConfirmed,
                        lambda recorded, event: str(event.vessel_id or "none"))
    with Application.open(store_target, with_projection(shipping_domain, by_vessel),
                          create=True) as app:
        @_settings(request)
        @given(scenario=shipping_cases.scenarios())
        def check(scenario: tuple[list[str], str, list[Command]]) -> None:
            _dispatch_all(app, scenario[2])
            assert_derived_equals_reference(app)

        check()


def test_trust_domain_rows_equal_the_reference(store_target: str,
                                               request: pytest.FixtureRequest) -> None:
    by_account = counted("posts_by_first_leg", t.Posted,
                         lambda recorded, event: event.legs[0].account if event.legs
                         else "none")
    t.FAIL["auditor"] = False
    with Application.open(store_target, with_projection(t.domain, by_account),
                          create=True) as app:
        @_settings(request)
        @given(commands=st.lists(posts, max_size=8))
        def check(commands: list[Command]) -> None:
            _dispatch_all(app, commands)
            assert_derived_equals_reference(app)

        check()


def test_a_deleted_custom_key_row_and_a_rejected_command(bank_app: Application) -> None:
    bank_app.dispatch(OpenAccount(aggregate_id="A"))
    bank_app.dispatch(DepositMoney(aggregate_id="A", amount=20))
    head = bank_app.store.head()
    assert not bank_app.dispatch(WithdrawMoney(aggregate_id="A", amount=500)).ok  # rejected
    assert bank_app.store.head() == head
    assert bank_app.dispatch(RequestTransfer(  # to no account: the send is reverted
        aggregate_id="T1", source_account_number="A", destination_account_number="Z",
        amount=5)).ok
    history = bank_app.row_history("transfer_flows", "T1")
    assert [(e.event_type, e.kind) for e in history] == [
        ("MoneySent", "created"), ("MoneySentReverted", "deleted")]
    assert history[-1].before == {"transfer_id": "T1", "sent": 5, "received": 0}
    assert [e.projection for e in bank_app.rows_changed_by(history[-1].event_id)] == [
        "bank_accounts", "transfer_flows"]
    assert_derived_equals_reference(bank_app)


def test_a_group_commit_batch_with_failing_members_leaves_only_its_committed_entries(
        shared_target: str) -> None:
    from tests.test_group_commit import hammered

    by_parity = counted("puts_by_parity", g.Putted,
                        lambda recorded, event: "even" if event.n % 2 == 0 else "odd")
    app = Application.open(shared_target, with_projection(g.domain, by_parity), create=True)
    try:
        results = hammered(app)
        grouped = app.group_commit
        assert grouped is not None and grouped.writes > grouped.batches  # batches formed
        assert {kind for kind, _, _ in results} >= {"good", "rejected", "raises"}
        reference = assert_derived_equals_reference(app)
        indexed = sum(len(p) for (name, _), p in reference.custom.items()
                      if name == "puts_by_parity")
        assert indexed == sum(1 for batch in app.store.iter_events() for e in batch
                              if e.event_type == "Putted")
    finally:
        app.close()


def test_lineage_switched_off_then_on_is_incomplete_until_a_rebuild(store_target: str) -> None:
    def transfer(app: Application, transfer_id: str) -> None:
        assert app.dispatch(RequestTransfer(
            aggregate_id=transfer_id, source_account_number="A",
            destination_account_number="B", amount=1)).ok

    on = with_projection(bank_domain, flows_projection())
    off = with_projection(bank_domain, flows_projection(lineage=False))
    with Application.open(store_target, on, create=True) as first:
        for account in ("A", "B"):
            first.dispatch(OpenAccount(aggregate_id=account))
        first.dispatch(DepositMoney(aggregate_id="A", amount=50))
        transfer(first, "T1")
        assert first.row_history("transfer_flows", "T1")
        quiet = Application(first.store, off)  # the same store, the code of another day
        transfer(quiet, "T2")
        assert quiet.row_history("transfer_flows", "T2") == []  # opted out: nothing
        app = Application(first.store, on)  # on again
        with pytest.raises(LineageIncomplete, match="rebuild transfer_flows"):
            app.row_history("transfer_flows", "T2")  # T2's sends were not indexed
        with pytest.raises(LineageIncomplete):
            app.row_history("transfer_flows", "T1")
        transfer(app, "T3")
        run_to_end(rebuild(app, ["transfer_flows"]))
        assert app.store.lineage_start("transfer_flows") == 0
        assert_derived_equals_reference(app)
        assert len(app.row_history("transfer_flows", "T2")) == 2


def test_verify_reports_an_index_entry_that_is_missing(bank_app: Application) -> None:
    from incident_core.operations.verify import verify

    _dispatch_all(bank_app, [OpenAccount(aggregate_id="A"), OpenAccount(aggregate_id="B"),
                             DepositMoney(aggregate_id="A", amount=100)])
    for n in range(2):
        assert bank_app.dispatch(RequestTransfer(
            aggregate_id=f"T{n}", source_account_number="A", destination_account_number="B",
            amount=5)).ok
    assert run_to_end(verify(bank_app)).ok
    reference = assert_derived_equals_reference(bank_app)
    entries = [(name, key, p) for (name, key), positions in sorted(reference.custom.items())
               for p in positions]
    with bank_app.store.transaction() as tx:  # damage: the index loses its first entry
        tx.clear_lineage("transfer_flows")
        tx.record_lineage(entries[1:])
    report = run_to_end(verify(bank_app))
    assert not report.ok
    assert report.mismatches == [f"projection transfer_flows: the lineage index lacks event "
                               f"#{entries[0][2]} for row {entries[0][1]}"]
