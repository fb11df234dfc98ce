"""Live rows equal rebuilt rows even for handlers that make mistakes with their row.

A log of meter readings (`tests.row_truth_domain`: an enum, times, a float, a decimal and
optional columns; each reading asks its handler for one mistake) is recorded with a handler
that ignores the mistakes; then three folds of the same events with the mistaken handler
must agree, on every adapter, for row models and dict rows:

- live, one event per unit of work (each imported alone, as single commands project),
- live, every event in one unit of work (one import: a batch),
- a rebuild.

They agree on the rows, or on the refusal: the same projection, event, row key and column
(a row changed in place by a handler returning None; an intermediate row the table cannot
hold, even when a later event would fix it). Nothing is written by a refused unit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_core import Application
from incident_core.engine.results import DomainCodeError
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from incident_core.projections import Projection
from incident_core.projections.definition import normalise_row
from incident_core.values import ValueRefused
from tests.row_truth_domain import Grade, MeterRow, Read, meters_domain, reads

Form = Literal["model", "dict"]
EXAMPLES = {"memory": 60, "sqlite": 25, "postgres": 6}  # each makes three stores
# (event type, row key, column) of a refusal; None when the fold accepted every event
Refusal = tuple[str, str, str] | None


def _rows(app: Application) -> dict[str, dict[str, Any]]:
    spec = app.projection("meters").spec
    return {r["aggregate_id"]: normalise_row(spec, r) for r in app.store.projection_rows(spec)}


_REFUSALS = [  # (event, row key, column) in each form a refusal is worded
    r"invalid Read: projection meters\.(?P<column>\w+): .* "  # live: the row refused
    r"\(row '(?P<key>\w+)', on (?P<event>\w+)\)",
    r"projection meters, row '(?P<key>\w+)', on (?P<event>\w+) at position \d+ raised "
    r"ValueError: (?P<column>\w+): ",  # a rebuild: the row refused
    r"projection meters on (?P<event>\w+) raised ValidationError: 1 validation error for "
    r"MeterRow\n(?P<column>\w+)\n",  # the row model refused a dict returned (no key)
]


def _refusal(exc: Exception) -> Refusal:
    for pattern in _REFUSALS:
        found = re.match(pattern, str(exc))
        if found is not None:
            return found["event"], found.groupdict().get("key") or "", found["column"]
    raise AssertionError(f"not a refusal: {exc!r}")


class Targets:
    """Fresh stores of one adapter, each opened once and closed at the end."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self.opened: list[Application] = []

    def app(self, form: Form, *, mistakes: bool = True) -> Application:
        app = Application.open(self._make(), meters_domain(form, mistakes=mistakes),
                               create=True)
        self.opened.append(app)
        return app

    def close(self) -> None:
        for app in self.opened:
            app.close()
        self.opened.clear()


@pytest.fixture(params=["memory", "sqlite",
                        pytest.param("postgres", marks=pytest.mark.postgres)])
def targets(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[str, Targets]]:
    kind = request.param
    if kind == "postgres":
        server = request.getfixturevalue("pg_server")
        made: list[str] = []

        def make() -> str:
            made.append(f"truth_{len(made)}_{id(made)}")
            return str(server.create_database(made[-1]))
    elif kind == "sqlite":
        def make() -> str:
            return str(tmp_path_factory.mktemp("truth") / "store.sqlite3")
    else:
        def make() -> str:
            return "memory:"
    found = Targets(make)
    try:
        yield kind, found
    finally:
        found.close()
        if kind == "postgres":
            for name in made:
                server.drop_database(name)


def _one_by_one(app: Application, envelopes: list[dict[str, Any]]) -> Refusal:
    """Each event imported alone (its own unit of work), up to the first refused."""
    for envelope in envelopes:
        head = app.store.head()
        try:
            app.import_events([envelope])
        except (ValueRefused, DomainCodeError) as exc:
            assert app.store.head() == head  # nothing of the refused unit is written
            return _refusal(exc)
    return None


def _batched(app: Application, envelopes: list[dict[str, Any]]) -> Refusal:
    try:
        app.import_events(envelopes)
    except (ValueRefused, DomainCodeError) as exc:
        assert app.store.head() == 0 and _rows(app) == {}
        return _refusal(exc)
    return None


def _rebuilt(app: Application) -> Refusal:
    before = _rows(app)
    try:
        run_to_end(rebuild(app, ["meters"]))
    except DomainCodeError as exc:
        assert _rows(app) == before  # the rows of the recording are left as they were
        return _refusal(exc)
    return None


def _agree(targets: Targets, form: Form, commands: list[Read]) -> Refusal:
    recording = targets.app(form, mistakes=False)
    for command in commands:
        assert recording.dispatch(command).ok
    envelopes = [e.to_json() for batch in recording.store.iter_events() for e in batch]
    alone, together = targets.app(form), targets.app(form)
    refusal = _one_by_one(alone, envelopes)
    assert _batched(together, envelopes) == refusal
    strict = Application(recording.store, meters_domain(form))
    assert _rebuilt(strict) == refusal
    if refusal is None:
        assert _rows(together) == _rows(alone) == _rows(recording)
    return refusal


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic's, dumping a wrong type
@pytest.mark.parametrize("form", ["model", "dict"])
def test_live_one_by_one_live_batched_and_rebuilt_rows_agree(
        targets: tuple[str, Targets], form: Form) -> None:
    kind, stores = targets
    outcomes: set[bool] = set()

    @settings(max_examples=EXAMPLES[kind], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(commands=st.lists(reads, min_size=1, max_size=8))
    def check(commands: list[Read]) -> None:
        try:
            outcomes.add(_agree(stores, form, commands) is None)
        finally:
            stores.close()

    check()
    assert outcomes == {True, False} or EXAMPLES[kind] < 20  # both were tried


def _reading(meter: str, mistake: str, delta: int = 1) -> Read:
    return Read(aggregate_id=meter, delta=delta, level=1.5, price=Decimal("2.50"),
                grade=Grade.LOW, mistake=mistake)  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["model", "dict"])
def test_a_row_changed_in_place_is_refused_live_naming_it(store_target: str, form: Form) -> None:
    app = Application.open(store_target, meters_domain(form), create=True)
    try:
        assert app.dispatch(_reading("m1", "none", 3)).ok
        before = _rows(app)
        with pytest.raises(ValueRefused, match=r"invalid Read: projection meters\.total: "
                           r"changed in place by a handler that returned None .*"
                           r"\(row 'm1', on Reading\)"):
            app.dispatch(_reading("m1", "in_place", 4))
        assert app.store.head() == 1 and _rows(app) == before
        assert app.dispatch(_reading("m1", "in_place_same")).ok  # no change: nothing to write
        assert _rows(app) == before and app.store.head() == 2
    finally:
        app.close()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("form", ["model", "dict"])
def test_an_invalid_row_a_later_event_fixes_is_refused_in_a_batch_too(
        store_target: str, form: Form) -> None:
    """dispatch_many folds every command in one unit: the bad row in the middle is still
    refused (it was refused alone), and nothing of the batch is written."""
    app = Application.open(store_target, meters_domain(form), create=True)
    try:
        with pytest.raises(ValueRefused, match=r"projection meters\.total: integer outside"):
            app.dispatch_many([_reading("m1", "none"), _reading("m1", "huge"),
                               _reading("m1", "none")])
        assert app.store.head() == 0 and _rows(app) == {}
    finally:
        app.close()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("form", ["model", "dict"])
def test_a_value_the_store_gives_back_changed_is_kept_as_it_gives_it_back(
        store_target: str, form: Form) -> None:
    """A whole float in the integer column, a time as text and an enum's value: the next
    handler sees what the store gives back, live and in a rebuild."""
    app = Application.open(store_target, meters_domain(form), create=True)
    try:
        for mistake in ("whole_float", "time_text", "grade_text", "none"):
            assert app.dispatch(_reading("m1", mistake, 2)).ok
        live = _rows(app)
        run_to_end(rebuild(app, ["meters"]))
        assert _rows(app) == live
        row = MeterRow.model_validate(live["m1"])
        assert row.total == 8 and row.readings == 4 and row.grade is Grade.LOW
        assert row.seen is not None and row.seen < row.at
        assert row.seen.utcoffset() == datetime(2026, 1, 1, tzinfo=UTC).utcoffset()
    finally:
        app.close()


def test_a_handler_returning_something_else_is_a_clear_error() -> None:
    odd: Projection[MeterRow] = Projection("meters", MeterRow)
    assert odd.exact({}) is False
    with pytest.raises(TypeError, match="returned a str, not a row model"):
        odd.settle("row")


@pytest.mark.parametrize("form", ["model", "dict"])
def test_a_negative_zero_is_the_zero_sqlite_gives_back_on_every_adapter(
        targets: tuple[str, Targets], form: Form) -> None:
    """SQLite stores -0.0 as 0.0: every fold keeps it so, and the next handler (which writes
    the level it got into `note`) sees 0.0 live, batched and in a rebuild."""
    _, stores = targets
    first = _reading("m1", "none").model_copy(update={"level": -0.0})
    assert _agree(stores, form, [first, _reading("m1", "none")]) is None
    _, alone, together = stores.opened
    assert _rows(alone)["m1"]["note"] == _rows(together)["m1"]["note"] == "0.0"
