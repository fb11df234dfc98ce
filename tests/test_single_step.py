"""A lone event's compiled projection step (`projector.SingleStep`, what a dispatch of one
event runs) is a `ProjectionRun` of that one event: the same row to store (or DELETE, or
nothing), the same error, the same failing event told to `on_error`, for every mistake a
handler can make with its row (`tests.row_truth_domain`), as row models and as dicts."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_core import Application
from incident_core.engine.decoder import decode
from incident_core.engine.projector import ProjectionRun, SingleStep, single_step
from incident_core.envelope import RecordedEvent
from incident_core.messages import Event
from incident_core.projections import Projection
from incident_core.projections.definition import DELETE
from tests.row_truth_domain import Read, Reading, meters_domain, reads

Form = Literal["model", "dict"]
Outcome = tuple[str, Any, list[int]]  # ("row" | "error", the row or the error's text, blamed)


def _recorded(form: Form, commands: list[Read]) -> list[tuple[RecordedEvent, Event]]:
    """The events of `commands` as stored (recorded with the handler ignoring mistakes)."""
    with Application.open("memory:", meters_domain(form, mistakes=False),
                          create=True) as app:
        for command in commands:
            app.dispatch(command)
        return [(r, decode(app.domain, r)) for page in app.store.iter_events() for r in page]


def _by_run(projection: Projection[Any], stored: dict[str, dict[str, Any]],
            recorded: RecordedEvent, event: Event) -> Outcome:
    blamed: list[int] = []
    run = ProjectionRun(projection, lambda keys: {k: stored[k] for k in keys if k in stored},
                        on_error=lambda r, _exc: blamed.append(r.position))
    try:
        last = run.fold([(recorded, event)])
    except Exception as exc:
        return "error", f"{type(exc).__name__}: {exc}", blamed
    puts, deletes = run.buffer.changes()
    row: Any = puts[0] if puts else (DELETE if deletes else None)
    assert list(last) == [recorded.aggregate_id]
    return "row", row, blamed


def _by_step(step: SingleStep, stored: dict[str, dict[str, Any]],
             recorded: RecordedEvent, event: Event) -> Outcome:
    blamed: list[int] = []
    try:
        key, row = step.fold(recorded, event,
                             lambda keys: {k: stored[k] for k in keys if k in stored},
                             on_error=lambda r, _exc: blamed.append(r.position))
    except Exception as exc:
        return "error", f"{type(exc).__name__}: {exc}", blamed
    assert key == recorded.aggregate_id
    return "row", row, blamed


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic's, dumping a wrong type
@pytest.mark.parametrize("form", ["model", "dict"])
def test_a_single_step_is_a_projection_run_of_one_event(form: Form) -> None:
    projection = meters_domain(form).projections["meters"]
    seen: set[str] = set()

    @settings(max_examples=60, deadline=None, database=None)
    @given(commands=st.lists(reads, min_size=1, max_size=6))
    def check(commands: list[Read]) -> None:
        stored: dict[str, dict[str, Any]] = {}  # each row as the last event left it
        for recorded, event in _recorded(form, commands):
            step = single_step(projection, recorded.event_type)
            by_run = _by_run(projection, stored, recorded, event)
            assert _by_step(step, stored, recorded, event) == by_run
            seen.add(by_run[0])
            if by_run[0] == "row" and isinstance(by_run[1], dict):
                stored[recorded.aggregate_id] = by_run[1]

    check()
    assert seen == {"row", "error"}  # both were tried


def test_a_step_is_compiled_again_when_its_handler_changes() -> None:
    projection = meters_domain("dict").projections["meters"]
    first = single_step(projection, "Reading")
    assert single_step(projection, "Reading") is first
    projection.on(Reading)(lambda row, event, recorded: None)
    again = single_step(projection, "Reading")
    assert again is not first
    assert again.handler is projection.handlers["Reading"][0]

