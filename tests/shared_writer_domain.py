"""A small domain for the shared-writer tests: commands accepted, rejected (a negative n) and
failing in the write transaction (a projection that raises for 13); with a gate directory set
(`GATE`), the first command with n=99 stops inside the writer's open batch (the writer's pid
in `GATE/entered`) until the process is killed. `other_domain` has the same name and a
different `Put` (a changed command schema)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import BaseModel

from incident_core import RecordedEvent
from incident_core.domain import Aggregate, Command, Decision, Domain, Event, Rejection, State
from incident_core.projections.definition import Projection

GATE: list[Path] = []  # the gate directory, when the worker was given one


class Put(Command):
    n: int


class Putted(Event):
    n: int


class BoxState(State):
    count: int = 0
    total: int = 0


def put(state: BoxState, cmd: Put | Other.Put) -> Decision:
    if cmd.n < 0:
        return Rejection("negative")
    return Putted(n=cmd.n)


def putted(state: BoxState, event: Putted) -> BoxState:
    return BoxState(count=state.count + 1, total=state.total + event.n)


class BoxRow(BaseModel):
    aggregate_id: str
    total: int


def hold_once() -> None:
    """The first time: say who we are, then stay inside the open batch until killed."""
    try:
        fd = os.open(GATE[0] / "entered", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    while True:
        time.sleep(1)


def box_row(row: BoxRow | None, event: Putted, recorded: RecordedEvent) -> BoxRow:
    if event.n == 13:
        raise ValueError("unlucky")
    if event.n == 99 and GATE:
        hold_once()
    return BoxRow(aggregate_id=recorded.aggregate_id, total=(row.total if row else 0) + event.n)


def make(put_type: type[Put] | type[Other.Put]) -> Domain:
    box = Aggregate("Box", BoxState(), snapshot_every=3)
    box.executes(put_type)(put)
    box.applies(Putted)(putted)
    boxes = Projection("boxes", BoxRow)
    boxes.on(Putted)(box_row)
    return Domain("shared_boxes", aggregates=[box], projections=[boxes])


class Other:
    class Put(Command):  # same name, another schema
        n: int
        note: str = ""


domain = make(Put)
other_domain = make(Other.Put)
