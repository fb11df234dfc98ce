"""An export imported into an empty store is the original store again: for random bank and
shipping histories (sagas, rejections, nested data), the import gives the same events (ids,
positions, data, metadata), the same projection rows, the same row lineage (`row_history`
of every row) and the same aggregate states as the store that recorded them event by
event. On every adapter, in batches small enough that every history spans several."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_core import Application, Command, Domain
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
)
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.shipping import domain as shipping_domain
from incident_core.operations import export_events, verify
from incident_core.operations.bulk_import import import_lines
from incident_core.progress import run_to_end
from tests.test_shipping_properties import scenarios as shipping_scenarios

EXAMPLES = {"memory": 25, "sqlite": 15, "postgres": 8}
BATCH = 3
ACCOUNTS = ["A", "B", "C"]
accounts = st.sampled_from(ACCOUNTS)
amounts = st.integers(1, 150)


def _transfer(pair: list[str], amount: int) -> Command:
    return RequestTransfer(aggregate_id=str(uuid4()), source_account_number=pair[0],
                           destination_account_number=pair[1], amount=amount)


bank_commands = st.lists(st.one_of(
    st.builds(OpenAccount, aggregate_id=accounts),
    st.builds(DepositMoney, aggregate_id=accounts, amount=amounts),
    st.builds(WithdrawMoney, aggregate_id=accounts, amount=amounts),
    st.builds(_transfer, st.permutations(ACCOUNTS), amounts)), min_size=1, max_size=25)
shipping_commands = shipping_scenarios().map(lambda scenario: scenario[2])


def exported(app: Application) -> list[str]:
    buffer = io.StringIO()
    run_to_end(export_events(app.store, buffer))
    return buffer.getvalue().splitlines()


def streams(app: Application) -> list[str]:
    out: list[str] = []
    after: str | None = None
    while page := app.store.streams(after_id=after, limit=100):
        out += [info.aggregate_id for info in page]
        after = page[-1].aggregate_id
    return out


def picture(app: Application) -> dict[str, Any]:
    """Everything an import must reproduce: the log, rows, lineage and states."""
    rows = {name: app.store.projection_rows(p.spec)
            for name, p in app.domain.projections.items()}
    lineage = {name: {str(row[p.key]): app.row_history(name, str(row[p.key]))
                      for row in rows[name]}
               for name, p in app.domain.projections.items()}
    states = {aggregate_id: app.state(aggregate_id) for aggregate_id in streams(app)}
    return {"log": exported(app), "rows": rows, "lineage": lineage, "states": states,
            "checkpoints": app.store.checkpoints()}


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres",
                                                         marks=pytest.mark.postgres)])
def fresh_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes a new, empty store target of one adapter per call (one per example)."""
    made: list[str] = []

    def make() -> str:
        made.append(f"store_{len(made)}")
        if request.param == "memory":
            return "memory:"
        if request.param == "sqlite":
            return str(tmp_path / f"{made[-1]}.sqlite3")
        server = request.getfixturevalue("pg_server")
        return str(server.create_database(f"import_{uuid4().hex[:16]}"))

    yield make


def roundtrip(domain: Domain, commands: list[Command], target: str) -> None:
    with Application.open("memory:", domain) as source:
        for command in commands:
            source.dispatch(command)  # accepted or rejected: both are part of the history
        original = picture(source)
    lines = original["log"]
    with Application.open(target, domain, create=True) as copy:
        numbered = list(enumerate(lines, start=1))
        assert run_to_end(import_lines(copy, numbered, batch=BATCH)) == len(lines)
        assert picture(copy) == original
        report = run_to_end(verify(copy))  # checksums, the streams table, rows by replay
        assert report.ok, report.mismatches


def _settings(request: pytest.FixtureRequest) -> Callable[[Any], Any]:
    adapter = request.node.callspec.params["fresh_target"]
    return settings(max_examples=EXAMPLES[adapter], deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


def test_an_imported_bank_history_is_the_original_store(
        fresh_target: Callable[[], str], request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(commands=bank_commands)
    def check(commands: list[Command]) -> None:
        roundtrip(bank_domain, commands, fresh_target())

    check()


def test_an_imported_shipping_history_is_the_original_store(
        fresh_target: Callable[[], str], request: pytest.FixtureRequest) -> None:
    @_settings(request)
    @given(commands=shipping_commands)
    def check(commands: list[Command]) -> None:
        roundtrip(shipping_domain, commands, fresh_target())

    check()
