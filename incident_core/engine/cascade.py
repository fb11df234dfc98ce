"""The saga cascade of a preview: the command runs in an `OverlayTransaction` and the
process managers then handle its events there, recursively (bounded), exactly as
`dispatch` would run them after committing, including the parking of a step whose handler
raises. Nothing reaches the store.

Not foreseen: a saga step parked because a projection refuses the row it would write
(a preview runs no projection)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incident_core.domain import Command
from incident_core.engine.parking import StepFailed
from incident_core.engine.preview_overlay import OverlayTransaction
from incident_core.engine.unit import Unit
from incident_core.envelope import RecordedEvent
from incident_core.process import Accepted, Outcome, ParkedStep, Rejected

if TYPE_CHECKING:
    from incident_core.engine.application import Application

__all__ = ["Cascade", "SagaRejection", "preview_cascade"]

MAX_EVENTS = 2000  # the cascade stops (truncated) past this many saga-handled events
MAX_ROUNDS = 50


@dataclass(frozen=True, slots=True)
class SagaRejection:
    """A command a process manager would send that the aggregate would reject."""

    process_manager: str
    cause_position: int
    cause_event_type: str
    command_type: str
    aggregate_id: str
    reason: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Cascade:
    """What the process managers would record after the command (positions are
    hypothetical), the commands they would have rejected and the steps they would park."""

    events: tuple[RecordedEvent, ...] = ()
    recorded_by: tuple[str, ...] = ()  # the process manager of each event
    rejections: tuple[SagaRejection, ...] = ()
    parked: tuple[ParkedStep, ...] = ()
    truncated: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.events or self.rejections or self.parked)

    def by_aggregate(self) -> dict[str, list[RecordedEvent]]:
        out: dict[str, list[RecordedEvent]] = {}
        for event in self.events:
            out.setdefault(event.aggregate_id, []).append(event)
        return out

    def summary(self) -> str:
        """'the transfer_saga would then record 4 more events on 3 aggregates'."""
        if not self.events:
            text = "no process manager would record anything more"
        else:
            managers = " and ".join(f"the {m}" for m in Counter(self.recorded_by))
            count, aggs = len(self.events), len(self.by_aggregate())
            text = (f"{managers} would then record {count} more event{'s' * (count != 1)} "
                    f"on {aggs} aggregate{'s' * (aggs != 1)}")
        if self.rejections:
            n = len(self.rejections)
            text += f"; {n} saga command{'s' * (n != 1)} would be rejected"
        if self.parked:
            n = len(self.parked)
            text += f"; {n} saga step{'s' * (n != 1)} would fail and be parked"
        return text + (" (cut short)" if self.truncated else "")

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(),
                "events": [dict(e.to_json(), process_manager=m)
                           for e, m in zip(self.events, self.recorded_by, strict=True)],
                "rejections": [r.to_json() for r in self.rejections],
                "parked": [p.to_json() for p in self.parked], "truncated": self.truncated}


class _PreviewUnit(Unit):
    """A unit that also notes the commands sagas send that are rejected."""

    def __init__(self, app: Application, tx: OverlayTransaction,
                 park: dict[tuple[str, int], ParkedStep]) -> None:
        super().__init__(app, tx, park=park)
        self.rejections: list[SagaRejection] = []

    def dispatch(self, command: Command, cause: RecordedEvent | None) -> Outcome:
        outcome = super().dispatch(command, cause)
        if isinstance(outcome, Rejected) and cause is not None and self.step is not None:
            self.rejections.append(SagaRejection(
                self.step[0], cause.position, cause.event_type, type(command).__name__,
                str(command.aggregate_id), outcome.reason, outcome.detail))
        return outcome


def preview_cascade(app: Application, command: Command) -> Cascade:
    """Run `command` and then the process managers over an overlay of the store."""
    park: dict[tuple[str, int], ParkedStep] = {}
    while True:
        unit = _PreviewUnit(app, OverlayTransaction(app.store), park)
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
