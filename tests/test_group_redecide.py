"""Group commit's second decide: a command decided on a state a batch-mate has moved on is
decided again, inside the batch, on the newer events, read as a load reads them: the lean
stream rows (version, types, schema version, the data as stored JSON text), validated
straight into the event model, with no envelope, id or metadata read or built. What it
decides is what a replay of the log gives: refused on the newer state, or recorded at the
next version."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from incident_core import Application, RecordedEvent
from incident_core.domain import Aggregate, Command, Decision, Domain, Event, Rejection, State
from incident_core.engine.results import DispatchResult
from incident_core.process import Accepted, Rejected
from incident_core.projections.definition import Projection
from tests.sql_trace import traced

GATE = threading.Event()  # the gate's projection holds the writer until it is set
ENTERED = threading.Event()


class Stamp(Command):
    at: datetime


class Stamped(Event):
    at: datetime


class ClockState(State):
    count: int = 0
    last: datetime | None = None


clock = Aggregate("Clock", ClockState())


@clock.executes(Stamp)
def stamp(state: ClockState, cmd: Stamp) -> Decision:
    if state.last is not None and cmd.at <= state.last:
        return Rejection("not_later", f"{cmd.at} is not after {state.last}")
    return Stamped(at=cmd.at)


@clock.applies(Stamped)
def stamped(state: ClockState, event: Stamped) -> ClockState:
    return ClockState(count=state.count + 1, last=event.at)


class Hold(Command):
    pass


class Held(Event):
    pass


gate = Aggregate("Gate", State())


@gate.executes(Hold)
def hold(state: State, cmd: Hold) -> Decision:
    return Held()


@gate.applies(Held)
def held(state: State, event: Held) -> State:
    return state


class GateRow(BaseModel):
    aggregate_id: str
    opened: int


gates = Projection("gates", GateRow)


@gates.on(Held)
def gate_row(row: GateRow | None, event: Held, recorded: RecordedEvent) -> GateRow:
    ENTERED.set()
    assert GATE.wait(30), "the test never opened the gate"
    return GateRow(aggregate_id=recorded.aggregate_id, opened=(row.opened if row else 0) + 1)


domain = Domain("clocks", aggregates=[clock, gate], projections=[gates])


def test_a_batch_mate_is_decided_again_on_the_newer_events(tmp_path: Path) -> None:
    GATE.clear()
    ENTERED.clear()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    statements: list[str] = []
    tracing = [False]
    with traced(statements, tracing), \
            Application.open(str(tmp_path / "s.sqlite3"), domain, create=True) as app:
        assert app.dispatch(Stamp(aggregate_id="c", at=start)).ok  # cached: version 1
        results: dict[str, DispatchResult] = {}

        def run(name: str, command: Command) -> None:
            results[name] = app.dispatch(command)

        holder = threading.Thread(target=run, args=("hold", Hold(aggregate_id="g")))
        holder.start()
        assert ENTERED.wait(30)  # the writer is busy: what follows queues, and joins it
        mates = [threading.Thread(target=run, args=(name, Stamp(aggregate_id="c", at=at)))
                 for name, at in (("later", start + timedelta(hours=2)),
                                  ("between", start + timedelta(hours=1)),
                                  ("latest", start + timedelta(hours=3)))]
        grouped = app.group_commit
        assert grouped is not None
        for mate in mates:  # each decided on version 1, then queued in this order
            mate.start()
            deadline = time.monotonic() + 30
            while len(grouped._queue) < mates.index(mate) + 1:
                assert time.monotonic() < deadline
                time.sleep(0.005)
        tracing[0] = True
        GATE.set()
        for thread in [holder, *mates]:
            thread.join()
        tracing[0] = False
        # the three mates joined the holder's transaction: one commit for the four
        assert (grouped.batches, grouped.writes) == (2, 5)
        assert isinstance(results["later"], Accepted)
        between = results["between"]  # decided again after "later": refused
        assert isinstance(between, Rejected) and between.reason == "not_later"
        latest = results["latest"]  # decided again after "later": version 3
        assert isinstance(latest, Accepted) and [e.version for e in latest.events] == [3]
        state = app.state("c")
        assert state is not None and state.version == 3
        assert state.state == ClockState(count=3, last=start + timedelta(hours=3))
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(reads) == 3, reads  # each mate: the stream after its version
        assert all("event_id" not in s and "metadata" not in s for s in reads), reads
    with Application.open(str(tmp_path / "s.sqlite3"), domain) as fresh:  # replayed
        replayed = fresh.state("c")
        assert replayed is not None and replayed.state == state.state
