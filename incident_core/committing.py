"""The write of one dispatched command, and how it is committed (alone, or grouped with
concurrent dispatches: `incident_core.group_commit`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from incident_core import aggregate_snapshots, idempotent
from incident_core.domain import Aggregate, Command, Event
from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.store.base import EventStore, StoreTransaction
from incident_core.unit import Unit

if TYPE_CHECKING:
    from incident_core.app import Application
    from incident_core.group_commit import GroupCommit

__all__ = ["commit", "record_command"]

T = TypeVar("T")


def record_command(app: Application, idempotency_key: str | None, command: Command,
                   aggregate: Aggregate[Any], key: str, version: int,
                   pending: list[PendingEvent], events: Sequence[Event], new_state: BaseModel,
                   tx: StoreTransaction) -> tuple[list[RecordedEvent], Unit, bool]:
    """In the write transaction: (events recorded earlier under the key, or []; the unit;
    whether saga work is pending). Records the events, a snapshot if due, projections."""
    earlier = idempotent.earlier_in(tx, idempotency_key, command)
    unit = Unit(app, tx)
    if earlier:
        return earlier, unit, False
    unit.record(pending, events)
    aggregate_snapshots.save_if_due(tx, aggregate, key, version, version + len(events),
                                    new_state)
    return [], unit, unit.finish(fast_forward=True)


def commit(store: EventStore, group: GroupCommit | None,
           write: Callable[[StoreTransaction], T]) -> T:
    """`write(tx)` committed: shared with concurrent dispatches when grouping."""
    if group is not None:
        return group.run(write)
    with store.transaction() as tx:
        return write(tx)
