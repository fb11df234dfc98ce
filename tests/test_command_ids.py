"""A command's id is its first event's id (unless an idempotency key names it): every reader
of command ids gives the same answers on every adapter, and the slim rows store no command id
for a one-event command (`slim.chain_columns`: NULL, equal to the event id before it).

Tallies: `Tally` records `times` events per command; the `echo` process manager answers each
event of a tally named `ping-*` with a one-event command on the tally `pong-*`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from incident_core import Accepted, Application, RecordedEvent
from incident_core.domain import Aggregate, Command, Decision, Domain, Event, State
from incident_core.engine import writer_protocol as wire
from incident_core.ids import new_id
from incident_core.operations.export_import import export_events, import_events
from incident_core.operations.trace import COMMAND, EVENT, STEP, trace_app
from incident_core.process import ProcessManager, SagaContext
from incident_core.progress import run_to_end
from incident_core.store.sql.slim import chain_columns, lift


class Tally(Command):
    times: int = 1


class Tallied(Event):
    n: int


class TallyState(State):
    count: int = 0


tally = Aggregate("Tally", TallyState())


@tally.executes(Tally)
def run_tally(state: TallyState, cmd: Tally) -> Decision:
    return [Tallied(n=state.count + i) for i in range(1, cmd.times + 1)]


@tally.applies(Tallied)
def tallied(state: TallyState, event: Tallied) -> TallyState:
    return TallyState(count=event.n)


echo = ProcessManager("echo")


@echo.on(Tallied)
def on_tallied(event: Tallied, recorded: RecordedEvent, ctx: SagaContext) -> None:
    if recorded.aggregate_id.startswith("ping-"):
        ctx.dispatch(Tally(aggregate_id="pong-" + recorded.aggregate_id[5:]))


domain = Domain("tallies", aggregates=[tally], process_managers=[echo])


def _accepted(app: Application, command: Command, key: str | None = None) -> list[RecordedEvent]:
    result = app.dispatch(command, idempotency_key=key)
    assert isinstance(result, Accepted) and not result.replayed
    return result.events


def _by_command(app: Application, command_id: str) -> list[str]:
    return [e.event_id for e in app.store.events_with_metadata("command_id", command_id)]


def _by_cause(app: Application, causation_id: str) -> list[str]:
    return [e.event_id for e in app.store.events_with_metadata("causation_id", causation_id)]


def _caused_by_event(app: Application, event_id: str) -> list[str]:
    """The events an event caused, as the readers tell them (trace, the inspector): those
    whose causation is that event, not their own command."""
    return [e.event_id for e in app.store.events_with_metadata("causation_id", event_id)
            if e.causation_id != e.metadata.get("command_id")]


def test_a_direct_command_is_named_by_its_first_event(store_target: str) -> None:
    with Application.open(store_target, domain, create=True) as app:
        one = _accepted(app, Tally(aggregate_id="a"))
        three = _accepted(app, Tally(aggregate_id="a", times=3))
        [first] = one
        assert first.metadata["command_id"] == first.event_id
        assert first.causation_id == first.correlation_id == first.event_id
        command_id = three[0].event_id
        assert [e.metadata["command_id"] for e in three] == [command_id] * 3
        assert [e.causation_id for e in three] == [command_id] * 3
        assert len({e.event_id for e in three}) == 3
        assert _by_command(app, first.event_id) == [first.event_id]
        assert _by_command(app, command_id) == [e.event_id for e in three]
        assert _by_cause(app, command_id) == [e.event_id for e in three]
        assert _by_command(app, three[1].event_id) == []  # event 2 names no command
        stored = [app.store.get_event(e.event_id) for e in [*one, *three]]
        assert [s.metadata if s else None for s in stored] == [
            e.metadata for e in [*one, *three]]


def test_an_idempotency_key_stays_the_command_id(store_target: str) -> None:
    with Application.open(store_target, domain, create=True) as app:
        events = _accepted(app, Tally(aggregate_id="k", times=2), key="key-1")
        assert [e.metadata["command_id"] for e in events] == ["key-1", "key-1"]
        assert "key-1" not in {e.event_id for e in events}
        assert _by_command(app, "key-1") == _by_cause(app, "key-1") == [
            e.event_id for e in events]
        again = app.dispatch(Tally(aggregate_id="k", times=2), idempotency_key="key-1")
        assert isinstance(again, Accepted) and again.replayed and again.events == events


def test_a_saga_command_is_named_by_its_first_event(store_target: str) -> None:
    with Application.open(store_target, domain, create=True) as app:
        cause = _accepted(app, Tally(aggregate_id="ping-1", times=2))
        pongs = app.store.read_stream("pong-1")
        assert len(pongs) == 2
        for pong, caused_by in zip(pongs, cause, strict=True):
            assert pong.metadata["command_id"] == pong.event_id
            assert pong.causation_id == caused_by.event_id
            assert pong.correlation_id == cause[0].event_id
            assert pong.metadata["process_manager"] == "echo"
            assert _by_command(app, pong.event_id) == [pong.event_id]
            assert _caused_by_event(app, caused_by.event_id) == [pong.event_id]
        assert _by_cause(app, cause[0].event_id) == [  # its command's events, and a pong
            cause[0].event_id, cause[1].event_id, pongs[0].event_id]
        correlated = app.store.events_with_metadata("correlation_id", cause[0].event_id)
        assert [e.event_id for e in correlated] == [e.event_id for e in (*cause, *pongs)]


def test_export_then_import_gives_the_same_answers(store_target: str, tmp_path: Path) -> None:
    with Application.open(store_target, domain, create=True) as app:
        _accepted(app, Tally(aggregate_id="ping-2", times=3))
        _accepted(app, Tally(aggregate_id="b"), key="key-2")
        exported = tmp_path / "events.ndjson"
        with exported.open("w", encoding="utf-8") as out:
            run_to_end(export_events(app.store, out))
        before = [(e.event_id, e.metadata) for page in app.store.iter_events() for e in page]
    copy = tmp_path / "copy.sqlite3"
    with Application.open(str(copy), domain, create=True) as other:
        with exported.open(encoding="utf-8") as source:
            run_to_end(import_events(other, source))
        after = [(e.event_id, e.metadata) for page in other.store.iter_events() for e in page]
        assert after == before
        for _event_id, metadata in before:
            command_id = str(metadata["command_id"])
            assert _by_command(other, command_id) == [
                i for i, m in before if m["command_id"] == command_id]


def test_a_one_event_command_stores_no_command_id(tmp_path: Path) -> None:
    """On SQLite's file: no command id stored for a one-event command, so the partial
    command-id index holds only the ids of events 2..n and of keyed commands."""
    path = tmp_path / "ids.sqlite3"
    with Application.open(str(path), domain, create=True) as app:
        one = _accepted(app, Tally(aggregate_id="a"))
        three = _accepted(app, Tally(aggregate_id="a", times=3))
        keyed = _accepted(app, Tally(aggregate_id="a"), key="key-3")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT event_id, command_id, causation_id, correlation_id "
                          "FROM incident_events ORDER BY position").fetchall()
    first = three[0].event_id
    assert rows == [
        (one[0].event_id, None, None, None),
        (first, None, None, None),
        (three[1].event_id, first, None, None),
        (three[2].event_id, first, None, None),
        (keyed[0].event_id, "key-3", None, None)]
    for event in [*one, *three, *keyed]:  # what the general path makes of the metadata
        assert lift(event.event_id, event.metadata)[1] == chain_columns(
            event.event_id, (event.metadata["command_id"], event.causation_id,
                             event.correlation_id))


def test_a_trace_tells_commands_from_the_events_they_caused(store_target: str) -> None:
    with Application.open(store_target, domain, create=True) as app:
        cause = _accepted(app, Tally(aggregate_id="ping-3", times=2))
        pongs = app.store.read_stream("pong-3")
        conversation = trace_app(app, cause[1].event_id)
    parent = {node.node_id: node.parent for node in conversation.nodes}
    kind = {node.node_id: node.kind for node in conversation.nodes}
    root = f"command:{cause[0].event_id}"
    assert parent[root] is None and kind[root] == COMMAND
    assert [n.node_id for n in conversation.nodes if n.parent is None] == [root]
    assert parent[cause[0].event_id] == parent[cause[1].event_id] == root
    for pong, caused_by in zip(pongs, cause, strict=True):
        step = f"step:echo:{caused_by.event_id}"
        assert parent[step] == caused_by.event_id and kind[step] == STEP
        assert parent[f"command:{pong.event_id}"] == step
        assert parent[pong.event_id] == f"command:{pong.event_id}"
        assert kind[pong.event_id] == EVENT


def test_a_shared_writers_fresh_key_names_the_first_event(store_target: str) -> None:
    """A command forwarded to the store's writer process with a key made for it (fresh) is
    written as a direct command whose id is that key: its first event's id."""
    with Application.open(store_target, domain, create=True) as app:
        key = new_id()
        request = wire.encode_request(Tally(aggregate_id="w", times=2), {"user": "u"}, key,
                                      fresh=True)
        result = app.dispatch_here(Tally(aggregate_id="w", times=2),
                                   **wire.dispatch_arguments(request))
        assert isinstance(result, Accepted)
        first, second = result.events
        assert first.event_id == key != second.event_id
        assert [e.metadata for e in result.events] == [
            {"correlation_id": key, "causation_id": key, "command_id": key, "user": "u",
             "command_type": "Tally"}] * 2
        assert _by_command(app, key) == [first.event_id, second.event_id]
        again = wire.encode_request(Tally(aggregate_id="w", times=2), {"user": "u"}, key,
                                    fresh=False)  # resent: the key is looked up
        replayed = app.dispatch_here(Tally(aggregate_id="w", times=2),
                                     **wire.dispatch_arguments(again))
        assert isinstance(replayed, Accepted) and replayed.replayed
        assert replayed.events == result.events
