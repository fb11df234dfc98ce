"""A `RecordedEvent` handed out is the caller's: changing its `data` or `metadata` changes
nothing the store keeps, on every adapter (the memory store hands out copies of its own
events, as an SQL store's are decoded from their rows).

Changed here: a dispatch result's events, a listener's events, a projection handler's
`recorded`, and every read of the port (stream, log pages, one event, events by metadata,
the inspector's sorted page). The log, a rebuild and a replayed state stay as recorded."""

from __future__ import annotations

from pydantic import BaseModel

from incident_core import (
    Aggregate,
    Application,
    Command,
    Decision,
    Domain,
    Event,
    Projection,
    State,
)
from incident_core.envelope import RecordedEvent
from incident_core.operations import rebuild
from incident_core.ports.sorting import SortKey
from incident_core.progress import run_to_end


class Say(Command):
    words: dict[str, list[str]]


class Said(Event):
    words: dict[str, list[str]]


class Count(State):
    said: int = 0
    first: tuple[str, ...] = ()


speaker = Aggregate("Speaker", Count())


@speaker.executes(Say)
def say(state: Count, cmd: Say) -> Decision:
    return Said(words=cmd.words)


@speaker.applies(Said)
def said(state: Count, event: Said) -> Count:
    return Count(said=state.said + 1, first=(*state.first, *event.words.get("a", [])))


class Line(BaseModel):
    aggregate_id: str
    words: str


lines: Projection[Line] = Projection("lines", Line)


@lines.on(Said)
def on_said(row: Line | None, event: Said, recorded: RecordedEvent) -> Line:
    words = ",".join(recorded.data["words"].get("a", []))
    _spoil(recorded)  # a handler that changes what it was handed
    return Line(aggregate_id=recorded.aggregate_id, words=words)


def _spoil(recorded: RecordedEvent) -> None:
    recorded.data["words"].setdefault("a", []).append("spoiled")
    recorded.data["extra"] = 1
    recorded.metadata["correlation_id"] = "spoiled"


speakers = Domain("handed-speakers", aggregates=[speaker], projections=[lines])
WORDS = {"a": ["x", "y"], "b": []}


def _reads(app: Application) -> list[RecordedEvent]:
    store = app.store
    [event] = store.read_stream("s1")
    found = store.get_event(event.event_id)
    assert found is not None
    by_meta = store.events_with_metadata("correlation_id", event.correlation_id or "")
    return [event, found, *by_meta, *store.read_events(), *next(store.iter_events()),
            *store.read_events_sorted(SortKey("position"))]


def test_changing_a_handed_event_changes_nothing_kept(store_target: str) -> None:
    app = Application.open(store_target, speakers, create=True)
    heard: list[RecordedEvent] = []

    def listener(events: list[RecordedEvent]) -> None:
        for event in events:
            _spoil(event)
        heard.extend(events)

    app.subscribe(listener)
    try:
        result = app.dispatch(Say(aggregate_id="s1", words=WORDS))
        assert result.ok and len(heard) == 1
        for event in result.events:
            _spoil(event)
        kept = _reads(app)
        for event in kept:
            assert event.data == {"words": WORDS}
            assert event.correlation_id == event.metadata["command_id"] != "spoiled"
            _spoil(event)  # a reader's change is its own too
        assert all(e.data == {"words": WORDS} for e in _reads(app))
        rows = list(app.store.projection_rows(app.projection("lines").spec))
        run_to_end(rebuild(app, ["lines"]))
        assert list(app.store.projection_rows(app.projection("lines").spec)) == rows
        assert rows == [{"aggregate_id": "s1", "words": "x,y"}]
        assert app.state("s1").state == Count(said=1, first=("x", "y"))
    finally:
        app.close()
