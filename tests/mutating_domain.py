"""A domain whose handlers can each make one mistake: change in place what they are given.

Crates are loaded with items: nested models that are *not* frozen, in lists, with a list of
tags, an enum, a float and a datetime; the event also carries a `dict[str, Any]` (pydantic
hands an `Any` through as it is). Every mistake is a flag in the `Mistakes` set a domain
is built with (the test turns them on and off):

- `EXECUTE`: `execute` adds the command's items to `state.items` to weigh them, then
  decides (a too heavy load is rejected);
- `APPLY`: `apply` extends the previous state's list and dict and returns a copy sharing
  them (the correct `apply` below builds new ones, but shares the event's items);
- `PROJECTION`: the `first_look` projection tags the first item of the event it gets and
  notes itself in the event's notes (`tag_count`, after it, counts tags and notes);
- `SAGA`: the `tagger` saga tags every item of the event it gets;
- `KEEP`: `execute` keeps the events it returns and tags their items on the next command.

`build(mistakes)` makes a fresh domain each time, so a mistake on one test's initial state
cannot reach another test. A `Gate` aggregate's projection holds the writer while a test
queues commands behind it (group commit).
"""

from __future__ import annotations

import threading
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from incident_core import RecordedEvent
from incident_core.domain import Aggregate, Command, Decision, Domain, Event, Rejection, State
from incident_core.process import ProcessManager, SagaContext
from incident_core.projections.definition import Projection

EXECUTE, APPLY, PROJECTION, SAGA, KEEP = "execute", "apply", "projection", "saga", "keep"
Mistakes = set[str]


class Kind(StrEnum):
    FRUIT = "fruit"
    TOOL = "tool"


class Item(BaseModel):  # not frozen: its fields can be set, its tags changed
    name: str
    kind: Kind = Kind.FRUIT
    weight: float = 1.5
    tags: list[str] = Field(default_factory=list)


class Load(Command):
    items: list[Item]
    at: datetime
    limit: float = 100.0
    forward_to: str | None = None


class Loaded(Event):
    items: list[Item]
    at: datetime
    forward_to: str | None = None
    notes: dict[str, Any] = Field(default_factory=dict)


class CrateState(State):
    items: list[Item] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=dict)
    last: datetime | None = None


class Hold(Command):
    pass


class Held(Event):
    pass


class TagRow(BaseModel):
    aggregate_id: str
    items: int
    tags: int
    notes: int


class LookRow(BaseModel):
    aggregate_id: str
    looks: int


class GateRow(BaseModel):
    aggregate_id: str
    opened: int


class Gate:
    """Holds the writer inside the gate's projection until opened (when armed)."""

    def __init__(self) -> None:
        self.armed = False
        self.entered = threading.Event()
        self.opened = threading.Event()


def build(mistakes: Mistakes, gate: Gate | None = None, *,
          poison: str = "poison") -> Domain:
    """A fresh crates domain making `mistakes`; a projection raises for an item named
    `poison` (a projection error, undoing its command)."""
    crate = _crate(mistakes)
    return Domain("crates", aggregates=[crate, _gate_aggregate()],
                  projections=[_first_look(mistakes, poison), _tag_count(),
                               _gates(gate or Gate())],
                  process_managers=[_forwarder(), _tagger(mistakes)])


def _crate(mistakes: Mistakes) -> Aggregate[CrateState]:
    crate = Aggregate("Crate", CrateState(), snapshot_every=2)
    kept: list[Loaded] = []

    @crate.executes(Load)
    def load(state: CrateState, cmd: Load) -> Decision:
        if KEEP in mistakes:
            for earlier in kept:
                for item in earlier.items:
                    item.tags.append("kept")
        if EXECUTE in mistakes:
            state.items.extend(cmd.items)
            weight = sum(item.weight for item in state.items)
        else:
            weight = sum(item.weight for item in [*state.items, *cmd.items])
        if weight > cmd.limit:
            return Rejection("too_heavy", f"{weight} kg")
        event = Loaded(items=cmd.items, at=cmd.at, forward_to=cmd.forward_to)
        kept.append(event)
        return event

    @crate.applies(Loaded)
    def loaded(state: CrateState, event: Loaded) -> CrateState:
        weights = {item.name: item.weight for item in event.items}
        if APPLY in mistakes:
            state.items.extend(event.items)
            state.weights.update(weights)
            return state.model_copy(update={"last": event.at})
        return CrateState(items=[*state.items, *event.items],
                          weights={**state.weights, **weights}, last=event.at)

    return crate


def _gate_aggregate() -> Aggregate[State]:
    gate = Aggregate("Gate", State())

    @gate.executes(Hold)
    def hold(state: State, cmd: Hold) -> Decision:
        return Held()

    @gate.applies(Held)
    def held(state: State, event: Held) -> State:
        return state

    return gate


def _first_look(mistakes: Mistakes, poison: str) -> Projection[LookRow]:
    looks = Projection("first_look", LookRow)

    @looks.on(Loaded)
    def looked(row: LookRow | None, event: Loaded, recorded: RecordedEvent) -> LookRow:
        if any(item.name == poison for item in event.items):
            raise ValueError(f"{poison} cannot be looked at")
        if PROJECTION in mistakes and event.items:
            event.items[0].tags.append("seen")
            event.notes.setdefault("seen_by", []).append("first_look")
        return LookRow(aggregate_id=recorded.aggregate_id, looks=(row.looks if row else 0) + 1)

    return looks


def _tag_count() -> Projection[TagRow]:
    counts = Projection("tag_count", TagRow)

    @counts.on(Loaded)
    def counted(row: TagRow | None, event: Loaded, recorded: RecordedEvent) -> TagRow:
        before = row or TagRow(aggregate_id=recorded.aggregate_id, items=0, tags=0, notes=0)
        return TagRow(aggregate_id=before.aggregate_id, items=before.items + len(event.items),
                      tags=before.tags + sum(len(item.tags) for item in event.items),
                      notes=before.notes + len(event.notes))

    return counts


def _gates(gate: Gate) -> Projection[GateRow]:
    gates = Projection("gates", GateRow)

    @gates.on(Held)
    def opened(row: GateRow | None, event: Held, recorded: RecordedEvent) -> GateRow:
        if gate.armed:
            gate.entered.set()
            assert gate.opened.wait(30), "the test never opened the gate"
        return GateRow(aggregate_id=recorded.aggregate_id, opened=(row.opened if row else 0) + 1)

    return gates


def _forwarder() -> ProcessManager:
    forwarder = ProcessManager("forwarder")

    @forwarder.on(Loaded)
    def forward(event: Loaded, recorded: RecordedEvent, ctx: SagaContext) -> None:
        if event.forward_to is not None:
            ctx.dispatch(Load(aggregate_id=event.forward_to, items=event.items, at=event.at))

    return forwarder


def _tagger(mistakes: Mistakes) -> ProcessManager:
    tagger = ProcessManager("tagger")

    @tagger.on(Loaded)
    def tag(event: Loaded, recorded: RecordedEvent, ctx: SagaContext) -> None:
        if SAGA in mistakes:
            for item in event.items:
                item.tags.append("saga")

    return tagger
