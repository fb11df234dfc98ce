"""The saga cascade of a preview: the command runs in an `OverlayTransaction` and the
process managers then handle its events there, recursively (bounded), exactly as
`dispatch` would run them after committing, including the parking of a step whose handler
raises. Nothing reaches the store.

Not foreseen: a saga step parked because a projection refuses the row it would write
(a preview runs no projection)."""

from __future__ import annotations

from incident_core.engine.deciding import Decider
from incident_core.engine.parking import StepFailed
from incident_core.engine.preview_overlay import OverlayTransaction
from incident_core.engine.results import Cascade, SagaRejection
from incident_core.engine.unit import Unit
from incident_core.envelope import RecordedEvent
from incident_core.messages import Command
from incident_core.ports import EventStore
from incident_core.process import Accepted, Outcome, ParkedStep, Rejected

__all__ = ["Cascade", "SagaRejection", "preview_cascade"]

MAX_EVENTS = 2000  # the cascade stops (truncated) past this many saga-handled events
MAX_ROUNDS = 50


class _PreviewUnit(Unit):
    """A unit that also notes the commands sagas send that are rejected."""

    def __init__(self, decider: Decider, tx: OverlayTransaction,
                 park: dict[tuple[str, int], ParkedStep]) -> None:
        super().__init__(decider, tx, park=park)
        self.rejections: list[SagaRejection] = []

    def dispatch(self, command: Command, cause: RecordedEvent | None) -> Outcome:
        outcome = super().dispatch(command, cause)
        if isinstance(outcome, Rejected) and cause is not None and self.step is not None:
            self.rejections.append(SagaRejection(
                self.step[0], cause.position, cause.event_type, type(command).__name__,
                str(command.aggregate_id), outcome.reason, outcome.detail))
        return outcome


def preview_cascade(decider: Decider, store: EventStore, command: Command) -> Cascade:
    """Run `command` and then the process managers over an overlay of the store."""
    park: dict[tuple[str, int], ParkedStep] = {}
    while True:
        unit = _PreviewUnit(decider, OverlayTransaction(store), park)
        outcome = unit.dispatch(command, None)
        if not isinstance(outcome, Accepted):
            return Cascade()
        try:
            truncated = _drain(unit)
        except StepFailed as failure:
            if failure.key in park:  # cannot happen: a parked step is not run again
                raise
            park[failure.key] = failure.step
            continue
        own = {e.event_id for e in outcome.events}
        saga = [e for e in unit.recorded if e.event_id not in own]
        return Cascade(tuple(saga), tuple(unit.step_of[e.event_id][0] for e in saga),
                       tuple(unit.rejections), tuple(unit.parked_now), truncated)


def _drain(unit: Unit) -> bool:
    """Let the process managers handle everything; True when cut short by the bounds."""
    handled = 0
    for _ in range(MAX_ROUNDS):
        step = unit.drain(MAX_EVENTS - handled)
        handled += step
        if step == 0:
            return False
        if handled >= MAX_EVENTS:
            return True
    return True
