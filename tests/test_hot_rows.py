"""The rows a writer keeps between its dispatches (`engine.hot_rows`) change nothing: live
rows equal a rebuild's after any mix of single dispatches, batches, concurrent dispatches
(group-commit batches), refused commands (rolled back, some after changing their lent row
in place), another writer on the same store and rebuilds; the same outcomes and errors as
an application that keeps no rows; and a kept row is only lent for the values it was
written with."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_core import Application
from incident_core.engine.hot_rows import HotRows, same_values
from incident_core.engine.projector import ProjectionFold
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from incident_core.projections.definition import normalise_row
from tests.row_truth_domain import MISTAKES, Grade, Read, meters_domain

Form = Literal["model", "dict"]
EXAMPLES = {"memory": 40, "sqlite": 15, "postgres": 4}

reads = st.builds(
    Read, aggregate_id=st.sampled_from(["m1", "m2"]), delta=st.integers(-5, 5),
    level=st.sampled_from([-0.0, 0.0, 1.5]) | st.floats(-1e6, 1e6),
    mistake=st.sampled_from(MISTAKES) | st.just("none"),
    price=st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    grade=st.sampled_from(Grade), note=st.none() | st.text(max_size=3))
steps = st.lists(st.one_of(
    st.tuples(st.just("one"), reads), st.tuples(st.just("other"), reads),
    st.tuples(st.just("many"), st.lists(reads, min_size=1, max_size=3)),
    st.tuples(st.just("group"), st.lists(reads, min_size=2, max_size=4)),
    st.tuples(st.just("rebuild"), st.none())), min_size=1, max_size=10)


@pytest.fixture(params=["memory", "sqlite",
                        pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, Any]]:
    kind = request.param
    made: list[str] = []
    if kind == "postgres":
        server = request.getfixturevalue("pg_server")

        def make() -> str:
            made.append(f"hot_{len(made)}_{id(made)}")
            return str(server.create_database(made[-1]))
    elif kind == "sqlite":
        def make() -> str:
            return str(tmp_path_factory.mktemp("hot") / "store.sqlite3")
    else:
        def make() -> str:
            return "memory:"
    yield kind, make
    if kind == "postgres":
        for name in made:
            server.drop_database(name)


def _rows(app: Application) -> dict[str, dict[str, Any]]:
    spec = app.projection("meters").spec
    return {r["aggregate_id"]: normalise_row(spec, r) for r in app.store.projection_rows(spec)}


def _replayed(app: Application) -> dict[str, dict[str, Any]]:
    """The rows a rebuild folds from the log (nothing written)."""
    projection = app.projection("meters")
    fold = ProjectionFold(app.domain, [projection])
    for page in app.store.iter_events():
        fold.feed_page(page)
    return {r["aggregate_id"]: normalise_row(projection.spec, r)
            for r in fold.rows("meters")}


def _outcome(app: Application, command: Read) -> str:
    try:
        return "ok" if app.dispatch(command).ok else "rejected"
    except Exception as exc:  # a refused row: the command is rolled back
        return f"{type(exc).__name__}: {exc}"


def _run(app: Application, other: Application, step: tuple[str, Any]) -> list[str]:
    kind, value = step
    if kind in ("one", "other"):
        return [_outcome(app if kind == "one" else other, value)]
    if kind == "many":
        try:
            return [str(o.ok) for o in app.dispatch_many(value)]
        except Exception as exc:
            return [f"{type(exc).__name__}: {exc}"]
    if kind == "group":  # concurrent: the outcomes' order is the threads' (not compared)
        threads = [threading.Thread(target=_outcome, args=(app, c)) for c in value]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return []
    run_to_end(rebuild(app, ["meters"]))
    return []


def _other(target: str, app: Application, form: Form) -> Application:
    """Another writer: its own connection to the file or database (for the memory store,
    another application over the same store)."""
    if target == "memory:":
        return Application(app.store, meters_domain(form))
    return Application.open(target, meters_domain(form))


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic's, dumping a wrong type
@pytest.mark.parametrize("form", ["model", "dict"])
def test_live_rows_equal_a_rebuild_and_outcomes_equal_no_kept_rows(
        stores: tuple[str, Any], form: Form) -> None:
    kind, make = stores
    lent: list[bool] = []

    @settings(max_examples=EXAMPLES[kind], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(plan=steps)
    def check(plan: list[tuple[str, Any]]) -> None:
        targets = [make(), make()]
        apps = [Application.open(t, meters_domain(form), create=True) for t in targets]
        others = [_other(t, a, form) for t, a in zip(targets, apps, strict=True)]
        apps[1].hot_rows = None  # type: ignore[assignment]  # the control: keeps nothing
        try:
            for step in plan:
                hot, cold = (_run(a, o, step) for a, o in zip(apps, others, strict=True))
                assert hot == cold
                for app in apps:
                    assert _rows(app) == _replayed(app)
            lent.append(len(apps[0].hot_rows) > 0)
        finally:
            for app in others + apps:
                app.close()

    check()
    assert any(lent)  # rows were kept


def test_a_kept_row_is_lent_once_and_only_for_its_values() -> None:
    domain = meters_domain("model")
    projection = domain.projections["meters"]
    hot = HotRows()
    written = {"aggregate_id": "m1", "total": 1, "level": 0.0}
    folded = object()
    hot.keep([(projection, "m1", written, folded)])
    assert hot.lend(projection, "m1", dict(written)) is folded
    assert hot.lend(projection, "m1", dict(written)) is None  # lent once
    for stored in ({**written, "total": 1.0}, {**written, "total": True},
                   {**written, "level": -0.0}, {"level": 0.0, "total": 1, "aggregate_id": "m1"},
                   {**written, "note": None}):
        hot.keep([(projection, "m1", written, folded)])
        assert hot.lend(projection, "m1", stored) is None, stored
    hot.keep([(projection, "m1", written, folded)])
    assert hot.lend(meters_domain("model").projections["meters"], "m1", written) is None


def test_same_values() -> None:
    row = {"a": "x", "b": 2, "c": 1.5, "d": None, "e": Decimal("1")}
    assert same_values(row, dict(row))
    assert not same_values(row, {**row, "b": 2.0})
    assert not same_values({"c": 0.0}, {"c": -0.0})


def test_a_dispatch_is_lent_the_row_it_wrote_and_folds_as_without(tmp_path: Any) -> None:
    target = str(tmp_path / "store.sqlite3")
    with Application.open(target, meters_domain("model"), create=True) as app:
        lent: list[bool] = []
        lend = HotRows.lend

        def counting(self: HotRows, *args: Any) -> Any:
            row = lend(self, *args)
            lent.append(row is not None)
            return row

        HotRows.lend = counting  # type: ignore[method-assign, assignment]
        try:
            for delta in range(5):
                assert app.dispatch(Read(aggregate_id="m1", delta=delta, level=1.5,
                                         price=Decimal("2.50"), grade=Grade.LOW)).ok
        finally:
            HotRows.lend = lend  # type: ignore[method-assign]
        assert lent == [True] * 4  # the first found no row
        assert _rows(app) == _replayed(app)
