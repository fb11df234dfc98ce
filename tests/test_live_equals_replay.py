"""Live = replay when domain code changes in place what it is given (`tests.mutating_domain`).

For each place the engine keeps an object that domain code had (the committed-state cache,
the initial state, the state a batch falls back to, snapshots, the decoded event several
handlers get, the events `execute` returned, what `dispatch` and `preview` return), a
mistake in the domain must not make the state the next command is decided on (`live`),
the projection rows or the snapshots differ from what a replay of the log gives.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from incident_core import Application
from incident_core.domain import Aggregate, Domain, Event, State
from incident_core.engine import aggregate_snapshots
from incident_core.engine.results import DispatchResult, DomainCodeError
from incident_core.operations import rebuild, verify
from incident_core.progress import run_to_end
from tests.mutating_domain import (
    APPLY,
    EXECUTE,
    KEEP,
    PROJECTION,
    SAGA,
    CrateState,
    Gate,
    Hold,
    Item,
    Load,
    Loaded,
    Mistakes,
    build,
)

AT = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))


@contextmanager
def opened(target: str, mistakes: Mistakes, gate: Gate | None = None,
           ) -> Iterator[Application]:
    app = Application.open(target, build(mistakes, gate), create=True)
    try:
        yield app
    finally:
        app.close()


def load(app: Application, crate: str, *names: str, weight: float = 1.5,
         forward_to: str | None = None) -> DispatchResult:
    items = [Item(name=name, weight=weight) for name in names]
    return app.dispatch(Load(aggregate_id=crate, items=items, at=AT, forward_to=forward_to))


def live(app: Application, crate: str) -> Any:
    """The state the next command on `crate` is decided on."""
    return app.preview(Load(aggregate_id=crate, items=[], at=AT)).before.state


def replayed(app: Application, crate: str, to_version: int | None = None) -> CrateState:
    """What a replay in a fresh process gives: the stored events decoded and folded by a
    domain without mistakes, from a new initial state."""
    reference = build(set())
    events = [reference.decode(e.event_type, copy.deepcopy(e.data), e.schema_version)
              for e in app.store.read_stream(crate, to_version=to_version)]
    state: CrateState = reference.aggregates["Crate"].fold(events, CrateState())
    return state


def replay_agrees(app: Application, *crates: str) -> None:
    for crate in crates:
        state = app.state(crate)
        assert state is not None
        assert live(app, crate) == replayed(app, crate) == state.state, crate
    report = run_to_end(verify(app))
    assert report.ok, report.to_json()


def rows(app: Application, name: str) -> list[dict[str, Any]]:
    return app.store.projection_rows(app.projection(name).spec)


def test_an_execute_that_changes_its_state_is_refused_and_changes_nothing(
        store_target: str) -> None:
    mistakes: Mistakes = set()
    with opened(store_target, mistakes) as app:
        assert load(app, "c", "apple").ok
        mistakes.add(EXECUTE)  # adds the anvil to the state to weigh it, then rejects it
        error: DomainCodeError | None = None
        try:
            load(app, "c", "anvil", weight=500)
        except DomainCodeError as exc:
            error = exc
        mistakes.clear()
        replay_agrees(app, "c")
        assert load(app, "c", "pear").ok
        replay_agrees(app, "c")
        assert [item.name for item in live(app, "c").items] == ["apple", "pear"]
        assert error is not None
        assert error.where == "Crate.execute(Load)"
        assert "changed in place the state it was given (items)" in str(error)


def test_an_apply_that_changes_the_previous_state_changes_no_kept_state(
        store_target: str) -> None:
    with opened(store_target, {APPLY}) as app:
        for crate, name in (("c1", "apple"), ("c1", "pear"), ("c2", "plum"), ("c1", "fig")):
            assert load(app, crate, name).ok
        replay_agrees(app, "c1", "c2")
        assert [item.name for item in live(app, "c2").items] == ["plum"]
        assert app.domain.aggregates["Crate"].initial_state == CrateState()


def test_a_batch_mate_undone_leaves_the_state_the_batch_falls_back_to(
        shared_target: str) -> None:
    gate = Gate()
    with opened(shared_target, {APPLY}, gate) as app:
        assert load(app, "c", "apple").ok  # cached at version 1
        grouped = app.group_commit
        assert grouped is not None
        results: dict[str, Any] = {}

        def run(name: str, work: Callable[[], DispatchResult]) -> None:
            try:
                results[name] = work()
            except DomainCodeError as exc:
                results[name] = exc

        gate.armed = True
        threads = [threading.Thread(target=run, args=(
            "hold", lambda: app.dispatch(Hold(aggregate_id="g"))))]
        threads[0].start()
        assert gate.entered.wait(30)  # the writer is busy: what follows is one batch
        for name in ("poison", "pear"):  # each decided on version 1, then queued
            threads.append(threading.Thread(target=run, args=(
                name, lambda name=name: load(app, "c", name))))
            threads[-1].start()
            deadline = time.monotonic() + 30
            while len(grouped._queue) < len(threads) - 1:
                assert time.monotonic() < deadline
                time.sleep(0.005)
        gate.opened.set()
        for thread in threads:
            thread.join()
        assert isinstance(results["poison"], DomainCodeError)  # its savepoint undone
        assert results["pear"].ok
        replay_agrees(app, "c")
        assert [item.name for item in live(app, "c").items] == ["apple", "pear"]


def test_a_snapshot_holds_the_fold_of_the_log(store_target: str) -> None:
    with opened(store_target, {APPLY}) as app:
        for crate, name in (("c1", "apple"), ("c1", "pear"), ("c2", "plum"), ("c2", "fig"),
                            ("c1", "kiwi"), ("c2", "lime"), ("c2", "date")):
            assert load(app, crate, name).ok
        aggregate = app.domain.aggregates["Crate"]
        for crate in ("c1", "c2"):
            found = aggregate_snapshots.latest(app.store, aggregate, crate)
            assert found is not None and found[0] == 2 * (found[0] // 2) > 0
            assert found[1] == replayed(app, crate, to_version=found[0])
        assert list(aggregate_snapshots.mismatches(app.store, app.domain)) == []
        replay_agrees(app, "c1", "c2")


def test_each_projection_handler_gets_its_own_event(store_target: str) -> None:
    with opened(store_target, {PROJECTION}) as app:
        assert load(app, "c", "apple", "pear").ok
        assert load(app, "c", "plum").ok  # a snapshot at version 2 too
        live_rows = rows(app, "tag_count")
        assert live_rows == [{"aggregate_id": "c", "items": 3, "tags": 0, "notes": 0}]
        replay_agrees(app, "c")
        run_to_end(rebuild(app, ["tag_count"]))
        assert rows(app, "tag_count") == live_rows
        run_to_end(rebuild(app, ["first_look", "tag_count"]))
        assert rows(app, "tag_count") == live_rows
        replay_agrees(app, "c")


def test_each_saga_handler_gets_its_own_event(store_target: str) -> None:
    with opened(store_target, {SAGA}) as app:
        preview = app.preview(Load(aggregate_id="x", items=[Item(name="fig")], at=AT,
                                   forward_to="y"))  # the cascade tags what it previews
        assert preview.cascade is not None and len(preview.cascade.events) == 1
        outcome = load(app, "x", "apple", "pear", forward_to="y")
        assert outcome.ok and not outcome.saga_failures  # type: ignore[union-attr]
        replay_agrees(app, "x", "y")  # y: loaded by the forwarder, tagged by the tagger
        assert [item.tags for item in live(app, "y").items] == [[], []]
        live_rows = rows(app, "tag_count")
        assert {row["aggregate_id"]: row["tags"] for row in live_rows} == {"x": 0, "y": 0}
        run_to_end(rebuild(app, ["tag_count"]))
        assert rows(app, "tag_count") == live_rows


def test_what_execute_returned_and_preview_hands_out_are_not_kept(store_target: str) -> None:
    with opened(store_target, {KEEP}) as app:
        assert load(app, "c", "apple").ok
        assert load(app, "c", "pear").ok  # execute tags the events it returned before
        preview = app.preview(Load(aggregate_id="c", items=[Item(name="fig")], at=AT))
        assert preview.after is not None
        before, after, event = preview.before.state, preview.after.state, preview.events[0]
        assert isinstance(before, CrateState) and isinstance(after, CrateState)
        assert isinstance(event, Loaded)
        before.items.append(Item(name="ghost"))  # the caller's to change
        after.items[0].tags.append("ghost")
        event.items[0].tags.append("ghost")
        replay_agrees(app, "c")
        assert [item.tags for item in live(app, "c").items] == [[], []]


def test_what_dispatch_returns_is_not_kept(shared_target: str) -> None:
    """The recorded events of a result (and of listeners) are the caller's: changing their
    data changes neither the state nor the rows. (The memory adapter hands out the very
    objects it keeps as its log: not covered there.)"""
    with opened(shared_target, set()) as app:
        heard: list[Any] = []
        app.subscribe(heard.extend)
        result = load(app, "c", "apple")
        assert result.ok
        result.events[0].data["items"][0]["tags"].append("changed")  # type: ignore[union-attr]
        result.events[0].data["notes"]["by"] = ["caller"]  # type: ignore[union-attr]
        heard[0].data["items"].append({"name": "ghost"})
        assert load(app, "c", "pear").ok
        replay_agrees(app, "c")
        assert rows(app, "tag_count") == [{"aggregate_id": "c", "items": 2, "tags": 0,
                                           "notes": 0}]


def test_event_times_and_floats_are_what_a_replay_decodes(store_target: str) -> None:
    """`apply` folds the events decoded back from their JSON, not `execute`'s objects."""
    with opened(store_target, set()) as app:
        result = app.dispatch(Load(aggregate_id="c", items=[Item(name="third", weight=1 / 3)],
                                   at=AT))
        assert result.ok
        state = live(app, "c")
        assert state == replayed(app, "c")
        assert state.last == AT and state.last.astimezone(UTC) == AT.astimezone(UTC)
        assert state.items[0].weight == 1 / 3


class Renamed(Event):
    schema_version = 2

    title: str


class Label(State):
    titles: tuple[str, ...] = ()


label = Aggregate("Label", Label())


@label.applies(Renamed)
def renamed(state: Label, event: Renamed) -> Label:
    return Label(titles=(*state.titles, event.title))


@label.upcasts(Renamed, from_version=1)
def titled(data: dict[str, Any]) -> dict[str, Any]:
    data["title"] = str(data.pop("name")).upper()  # changes the data it is given
    return data


def test_an_upcaster_that_changes_its_data_changes_no_stored_event(store_target: str) -> None:
    envelope = {"event_id": "01900000-0000-7000-8000-000000000001", "aggregate_id": "l",
                "aggregate_type": "Label", "event_type": "Renamed", "version": 1,
                "recorded_at": "2026-01-01T00:00:00.000000+00:00", "schema_version": 1,
                "data": {"name": "old"}, "metadata": {}}
    with Application.open(store_target, Domain("labels", aggregates=[label]),
                          create=True) as app:
        app.import_events([envelope])
        for _ in range(2):  # decoded twice, from what the store keeps
            state = app.state("l")
            assert state is not None and state.state == Label(titles=("OLD",))
        assert app.store.read_stream("l")[0].data == {"name": "old"}
