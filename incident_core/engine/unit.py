"""The one unit of work: what one write transaction records, projects and checkpoints.

Dispatch, saga steps, `dispatch_many`, import, a rebuild's swap and the opening of a store
all write through a `Unit`: `write` records a decided command (and notes its new state),
`record` appends events, `drain` runs process managers, `finish` brings every projection
(through the one projector, `incident_core.engine.projector`) and saga checkpoint up to the
new head, and `publish`, after the commit, remembers the states and tells the listeners.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from incident_core import telemetry
from incident_core.engine import aggregate_snapshots
from incident_core.engine.deciding import Decided, Decider
from incident_core.engine.decoder import decode
from incident_core.engine.immutable import frozen
from incident_core.engine.lineage import IndexTrail, trail_of, written
from incident_core.engine.listeners import Listeners
from incident_core.engine.parking import StepFailed, is_infrastructure, parked_step
from incident_core.engine.projector import ProjectionRun, single_step
from incident_core.engine.recording import pending_of
from incident_core.engine.results import WrongAggregateType
from incident_core.envelope import PendingEvent, RecordedEvent, now_text
from incident_core.ids import new_id
from incident_core.messages import Command, Event, Rejection
from incident_core.ports import StoreTransaction
from incident_core.process import (
    Accepted,
    Outcome,
    ParkedStep,
    ProcessManager,
    Rejected,
    SagaOutcome,
)
from incident_core.projections.definition import Delete, Projection, RowRefused
from incident_core.values import ValueRefused, aggregate_key, kept_text

__all__ = ["Unit"]


class Unit:
    """One write transaction's work: commands, projections and saga steps, atomically."""

    def __init__(self, decider: Decider, tx: StoreTransaction, *,
                 listeners: Listeners | None = None,
                 park: dict[tuple[str, int], ParkedStep] | None = None) -> None:
        self.decider = decider
        self.domain = decider.domain
        self.tx = tx
        self.listeners = listeners
        self.head_before = tx.head()
        self.recorded: list[RecordedEvent] = []
        self.decoded: dict[str, Event] = {}
        self.states: dict[str, tuple[str, int, BaseModel]] = {}
        self.park = park or {}
        self.parked_now: list[ParkedStep] = []
        self.step: tuple[str, RecordedEvent] | None = None  # (manager, cause) running now
        self.step_of: dict[str, tuple[str, RecordedEvent]] = {}  # event id → its step

    # SagaContext
    def dispatch(self, command: Command, cause: RecordedEvent | None) -> Outcome:
        """Decide and write a command in this transaction (on what it wrote before)."""
        aggregate, key = self.decider.target(command)
        known = self.states.get(key)
        try:
            if known is not None and known[0] == aggregate.name:
                version, state = known[1], known[2]
            else:
                version, state = self.decider.load(aggregate, key, self.tx)
        except WrongAggregateType as exc:
            return Rejected("wrong_aggregate_type", str(exc))
        first_id = new_id()  # the first event's id is the command's id
        decided = self.decider.decide(aggregate, key, version, state, command,
                                      self._metadata(first_id, cause), first_id)
        if isinstance(decided, Rejection):
            return Rejected.of(decided)
        return Accepted(self.write(decided))

    def _metadata(self, command_id: str, cause: RecordedEvent | None) -> dict[str, Any]:
        if cause is None:
            return {"correlation_id": command_id, "causation_id": command_id,
                    "command_id": command_id}
        meta = {"correlation_id": cause.correlation_id or cause.event_id,
                "causation_id": cause.event_id, "command_id": command_id}
        if self.step is not None:
            meta["process_manager"] = self.step[0]
        return meta

    def write(self, decided: Decided) -> list[RecordedEvent]:
        """Record a decided command, its new state noted (and snapshotted when due)."""
        recorded = self.record(decided.pending, decided.events)
        aggregate = decided.aggregate
        self.states[decided.key] = (aggregate.name, decided.new_version, decided.after)
        aggregate_snapshots.save_if_due(self.tx, aggregate, decided.key, decided.version,
                                        decided.new_version, decided.after)
        return recorded

    def record(self, pending: list[PendingEvent],
               events: Sequence[Event] | None) -> list[RecordedEvent]:
        """Append events (`events`: the same, decoded, when the writer has them)."""
        recorded = self.tx.append(pending)
        if events is not None:
            for rec, event in zip(recorded, events, strict=True):
                self.decoded[rec.event_id] = event
        if self.step is not None:
            for rec in recorded:
                self.step_of[rec.event_id] = self.step
        self.recorded.extend(recorded)
        return recorded

    def record_envelopes(self, envelopes: Sequence[dict[str, Any]],
                         events: Sequence[Event] | None) -> list[RecordedEvent]:
        """Append events recorded elsewhere (an import's, in `recording.envelope_from`'s
        form) the adapter's fastest way (`append_envelopes`), else as pending events."""
        recorded = self.tx.append_envelopes(envelopes)
        if recorded is None:
            return self.record([pending_of(e) for e in envelopes], events)
        if events is not None:
            for rec, event in zip(recorded, events, strict=True):
                self.decoded[rec.event_id] = event
        self.recorded.extend(recorded)
        return recorded

    def event_of(self, recorded: RecordedEvent) -> Event:
        """The event for one handler: the decided one when it cannot be changed in place,
        else a copy of its own (`engine.immutable`)."""
        event = self.decoded.get(recorded.event_id)
        if event is not None and frozen(type(event)):
            return event
        return decode(self.domain, recorded)

    def drain(self, limit: int) -> int:
        """Let each process manager handle its pending events (up to `limit` in all).
        A step listed in `park` is parked instead of run, and its checkpoint moves on."""
        handled = 0
        for pm in self.domain.process_managers.values():
            checkpoint = self.tx.checkpoint(pm.name) or 0
            for recorded in self.tx.events_after(checkpoint, event_types=pm.event_type_names,
                                                 limit=limit - handled):
                step = self.park.get((pm.name, recorded.position))
                if step is None:
                    self.run_step(pm, recorded)
                else:
                    self.tx.park(step)
                    self.parked_now.append(step)
                self.tx.set_checkpoint(pm.name, recorded.position)
                handled += 1
            if handled >= limit:
                break
        return handled

    @telemetry.saga_step(parked_on=StepFailed)
    def run_step(self, pm: ProcessManager, recorded: RecordedEvent) -> None:
        """Run one handler and write what it dispatched; StepFailed if it raised."""
        self.step = (pm.name, recorded)
        try:
            pm.handle(self.event_of(recorded), recorded, _SagaContext(self, recorded))
            self.tx.flush()
        except Exception as exc:
            if is_infrastructure(exc):
                raise
            raise StepFailed(parked_step(pm.name, recorded, exc)) from exc
        finally:
            self.step = None

    @telemetry.traced("incident.project")
    def finish(self, *, fast_forward: bool, skip_sagas: bool = False) -> bool:
        """Bring projections up to the new head. Return True if saga work is pending.
        `skip_sagas`: process managers that were up to date skip this unit's events."""
        head = self.tx.head()
        for projection in self.domain.projections.values():
            self.project(projection, head)
        pending = False
        for pm in self.domain.process_managers.values():
            checkpoint = self.tx.checkpoint(pm.name) or 0
            if checkpoint == head:
                continue
            handles = pm.event_type_names
            up_to_date = fast_forward and checkpoint == self.head_before and (
                skip_sagas or self._quiet(handles, checkpoint))
            if up_to_date or not self.tx.events_after(checkpoint, event_types=handles,
                                                       limit=1):
                self.tx.set_checkpoint(pm.name, head)
            else:
                pending = True
        return pending

    def _quiet(self, handles: list[str], checkpoint: int) -> bool:
        """No event this unit recorded after `checkpoint` is of a type in `handles`."""
        for recorded in self.recorded:
            if recorded.position > checkpoint and recorded.event_type in handles:
                return False
        return True

    def project(self, projection: Projection[Any], head: int) -> None:
        """Bring one projection's rows, lineage and checkpoint up to `head` (its events
        after its checkpoint: read from the transaction when it lags behind this unit, else
        this unit's own)."""
        tx = self.tx
        checkpoint = tx.checkpoint(projection.name)
        if checkpoint is None:
            tx.ensure_projection(projection.spec)
            checkpoint = 0
        if checkpoint >= head:
            return
        todo: Sequence[RecordedEvent] = self.recorded
        if checkpoint < self.head_before:
            todo = tx.events_after(checkpoint, event_types=projection.event_type_names)
        knows, event_of = self.domain.knows_event, self.event_of
        types = {name for name in projection.event_type_names if knows(name)}
        # one pass: its events the domain knows, each as `event_of` gives it
        work = [(recorded, event_of(recorded)) for recorded in todo
                if recorded.event_type in types and recorded.position > checkpoint]
        if work:  # else only its checkpoint moves
            self._write_rows(projection, work)
        tx.set_checkpoint(projection.name, head)

    def _write_rows(self, projection: Projection[Any],
                    work: list[tuple[RecordedEvent, Event]]) -> None:
        spec = projection.spec
        tx = self.tx
        if len(work) == 1:  # a lone event (most dispatches): its compiled step
            self._write_row(projection, *work[0])
            return
        trail = trail_of(projection)
        run = ProjectionRun(projection, lambda keys: tx.get_rows(spec, keys), trail=trail,
                            on_error=self._blame, refuse=_refused)
        run.fold(work)
        puts, deletes = run.buffer.changes()
        tx.put_rows(spec, puts)
        tx.delete_rows(spec, deletes)
        written(tx, projection, trail)

    def _write_row(self, projection: Projection[Any], recorded: RecordedEvent,
                   event: Event) -> None:
        """`_write_rows` of one event, through `projector.single_step` (the same rows,
        lineage index entries and errors as a `ProjectionRun`)."""
        spec = projection.spec
        tx = self.tx
        step = single_step(projection, recorded.event_type)
        key, row = step.fold(recorded, event, lambda keys: tx.get_rows(spec, keys),
                             on_error=self._blame, refuse=_refused)
        if isinstance(row, Delete):
            tx.delete_rows(spec, [key])
        elif row is not None:
            tx.put_rows(spec, [row])
        if step.key_fn is not None:  # a custom key: its lineage index entry
            trail = IndexTrail(projection)
            trail.keyed(key, recorded)
            written(tx, projection, trail)

    def _blame(self, recorded: RecordedEvent, exc: Exception) -> None:
        """An event a saga step recorded broke a projection: that step fails (is parked)."""
        step = self.step_of.get(recorded.event_id)
        if step is not None:
            cause = step[1]
            raise StepFailed(parked_step(step[0], cause, exc)) from exc

    def publish(self) -> None:
        """After commit: remember states and tell listeners."""
        remember = self.decider.cache.put
        for aggregate_id, (aggregate_type, version, state) in self.states.items():
            remember(aggregate_type, aggregate_id, version, state)
        telemetry.appended(len(self.recorded))
        if self.listeners is not None:
            self.listeners.notify(self.recorded)


def _refused(name: str, recorded: RecordedEvent, key: str, refused: RowRefused) -> Exception:
    """The command's error for a row the fold refused (the projection's table cannot hold
    it, or a handler changed it in place): nothing of the command is written."""
    return ValueRefused(str(recorded.metadata.get("command_type", "command")),
                        (f"projection {name}", refused.column),
                        f"{refused.problem} (row {key!r}, on {recorded.event_type})",
                        error_type=refused.error_type)


class _SagaContext:
    def __init__(self, unit: Unit, cause: RecordedEvent) -> None:
        self._unit = unit
        self._cause = cause

    def dispatch(self, command: Command) -> Outcome:
        outcome = self._unit.dispatch(command, self._cause)
        step = self._unit.step
        if isinstance(outcome, Rejected) and step is not None:
            cause = self._cause
            self._unit.tx.record_saga_outcome(SagaOutcome(
                step[0], cause.position, cause.event_id, cause.correlation_id or cause.event_id,
                type(command).__name__, aggregate_key(command.aggregate_id),
                kept_text(outcome.reason), kept_text(outcome.detail), now_text()))
        return outcome
