"""The write of one dispatched command, and how it is committed (alone, or grouped with
concurrent dispatches: `incident_core.engine.group_commit`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from incident_core import telemetry
from incident_core.domain import Aggregate
from incident_core.engine import idempotent, loading
from incident_core.engine.deciding import Decided, Decider
from incident_core.engine.group_commit import GroupCommit
from incident_core.engine.listeners import Listeners
from incident_core.engine.unit import Unit
from incident_core.envelope import RecordedEvent
from incident_core.messages import Command, Rejection
from incident_core.ports import EventStore, StoreTransaction

__all__ = ["Plan", "Written", "commit", "record_command"]

T = TypeVar("T")


@dataclass(slots=True)
class Plan:
    """A command on its way to the store: what it was decided on and what it records."""

    command: Command
    idempotency_key: str | None
    meta: dict[str, Any]
    aggregate: Aggregate[Any]
    key: str
    first_id: str | None = None  # the first event's id (the command's, unless a key is)
    version: int = 0
    state: BaseModel | None = None
    decided: Decided | None = None
    verify: bool = False  # a retry reads the store instead of trusting the cache

    @telemetry.traced("incident.decide")
    def decide(self, decider: Decider, version: int, state: BaseModel) -> Rejection | None:
        """Decide on `state` (at `version`): the events to record, or the rejection."""
        self.version, self.state = version, state
        decision = decider.decide(self.aggregate, self.key, version, state, self.command,
                                  self.meta, self.first_id)
        if isinstance(decision, Rejection):
            self.decided = None
            return decision
        self.decided = decision
        return None


@dataclass(slots=True)
class Written:
    earlier: list[RecordedEvent]  # recorded before under the idempotency key: nothing now
    unit: Unit
    saga_work: bool = False
    rejection: Rejection | None = None  # decided again on newer events, and refused


def record_command(decider: Decider, listeners: Listeners, plan: Plan, tx: StoreTransaction,
                   grouped: bool) -> Written:
    """In the write transaction: the events, a snapshot if due, projections. `grouped`: a
    batch-mate may have moved the aggregate on since the plan was decided (then it is
    decided again on the newer events, instead of failing on a taken version)."""
    unit = Unit(decider, tx, listeners=listeners)
    if plan.idempotency_key is not None and (earlier := idempotent.earlier_in(
            tx, plan.idempotency_key, plan.command)):
        return Written(earlier, unit)
    assert plan.state is not None
    if grouped and (newer := tx.read_stream_rows(plan.key, after_version=plan.version)):
        rejection = plan.decide(decider, *loading.fold_rows(  # the lean rows, as a load
            decider.domain, tx, plan.aggregate, plan.key, (plan.version, plan.state), newer))
        if rejection is not None:
            return Written([], unit, rejection=rejection)
    assert plan.decided is not None
    unit.write(plan.decided)
    return Written([], unit, unit.finish(fast_forward=True))


@telemetry.traced("incident.commit")
def commit(store: EventStore, group: GroupCommit | None,
           write: Callable[[StoreTransaction, bool], T]) -> T:
    """`write(tx, grouped)` committed: shared with concurrent dispatches when grouping."""
    if group is not None:
        return group.run(write)
    with store.transaction() as tx:
        return write(tx, False)
