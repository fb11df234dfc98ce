"""The write of one dispatched command, and how it is committed (alone, or grouped with
concurrent dispatches: `incident_core.engine.group_commit`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from incident_core.domain import Aggregate, Command, Event, Rejection
from incident_core.engine import aggregate_snapshots, idempotent
from incident_core.engine.unit import Unit
from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.ports import EventStore, StoreTransaction

if TYPE_CHECKING:
    from incident_core.engine.application import Application
    from incident_core.engine.group_commit import GroupCommit

__all__ = ["Plan", "Written", "commit", "record_command"]

T = TypeVar("T")


@dataclass
class Plan:
    """A decided command about to be written: what it was decided on and what it records."""

    command: Command
    idempotency_key: str | None
    meta: dict[str, Any]
    aggregate: Aggregate[Any]
    key: str
    version: int
    state: BaseModel
    pending: list[PendingEvent] = field(default_factory=list)
    events: Sequence[Event] = ()
    new_state: BaseModel | None = None

    def decide(self, app: Application) -> Rejection | None:
        """Decide on `state` (at `version`): the events to record, or the rejection."""
        decision = app._decide(self.aggregate, self.state, self.command)
        if isinstance(decision, Rejection):
            return decision
        self.pending, self.events = app._pending(self.aggregate, self.command, self.version,
                                                 decision, self.meta)
        self.new_state = app._apply_all(self.aggregate, self.state, self.events)
        return None


@dataclass
class Written:
    earlier: list[RecordedEvent]  # recorded before under the idempotency key: nothing now
    unit: Unit
    saga_work: bool = False
    rejection: Rejection | None = None  # decided again on newer events, and refused


def record_command(app: Application, plan: Plan, tx: StoreTransaction,
                   grouped: bool) -> Written:
    """In the write transaction: the events, a snapshot if due, projections. `grouped`: a
    batch-mate may have moved the aggregate on since the plan was decided (then it is
    decided again on the newer events, instead of failing on a taken version)."""
    earlier = idempotent.earlier_in(tx, plan.idempotency_key, plan.command)
    unit = Unit(app, tx)
    if earlier:
        return Written(earlier, unit)
    if grouped and (newer := tx.read_stream(plan.key, after_version=plan.version)):
        plan.version, plan.state = app._fold(plan.aggregate, plan.key,
                                             (plan.version, plan.state), newer)
        rejection = plan.decide(app)
        if rejection is not None:
            return Written([], unit, rejection=rejection)
    unit.record(plan.pending, plan.events)
    assert plan.new_state is not None
    aggregate_snapshots.save_if_due(tx, plan.aggregate, plan.key, plan.version,
                                    plan.version + len(plan.events), plan.new_state)
    return Written([], unit, unit.finish(fast_forward=True))


def commit(store: EventStore, group: GroupCommit | None,
           write: Callable[[StoreTransaction, bool], T]) -> T:
    """`write(tx, grouped)` committed: shared with concurrent dispatches when grouping."""
    if group is not None:
        return group.run(write)
    with store.transaction() as tx:
        return write(tx, False)
