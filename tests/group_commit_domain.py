"""A small domain for the group-commit tests: commands accepted, rejected, refused inside the
write transaction (a projection total beyond 64 bits) and failing inside it (a projection
that raises for 13), with snapshots every 3 events. A box whose id starts with `held` waits
in its projection (inside the write transaction) until `GATE` is set."""

from __future__ import annotations

import threading

from pydantic import BaseModel

from incident_core import RecordedEvent
from incident_core.domain import Aggregate, Command, Decision, Domain, Event, Rejection, State
from incident_core.projections.definition import Projection


class Put(Command):
    n: int


class Putted(Event):
    n: int


class BoxState(State):
    count: int = 0
    total: int = 0


box = Aggregate("Box", BoxState(), snapshot_every=3)


@box.executes(Put)
def put(state: BoxState, cmd: Put) -> Decision:
    if cmd.n < 0:
        return Rejection("negative")
    return Putted(n=cmd.n)


@box.applies(Putted)
def putted(state: BoxState, event: Putted) -> BoxState:
    return BoxState(count=state.count + 1, total=state.total + event.n)


class BoxRow(BaseModel):
    aggregate_id: str
    total: int


boxes = Projection("boxes", BoxRow)
GATE = threading.Event()  # a `held` box's projection waits for it
HELD = threading.Event()  # set when one starts waiting


@boxes.on(Putted)
def box_row(row: BoxRow | None, event: Putted, recorded: RecordedEvent) -> BoxRow:
    if recorded.aggregate_id.startswith("held"):
        HELD.set()
        assert GATE.wait(30), "the test never opened the gate"
    if event.n == 13:
        raise ValueError("unlucky")
    return BoxRow(aggregate_id=recorded.aggregate_id, total=(row.total if row else 0) + event.n)


domain = Domain("boxes", aggregates=[box], projections=[boxes])
