"""One write transaction's work: commands, projections and saga steps, committed as one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from incident_core.domain import Command, Event, Rejection
from incident_core.engine import aggregate_snapshots
from incident_core.engine.lineage import LineageTrail
from incident_core.engine.parking import StepFailed, is_infrastructure, parked_step, row_problem
from incident_core.engine.results import DomainCodeError, WrongAggregateType
from incident_core.envelope import PendingEvent, RecordedEvent, format_time, utc_now
from incident_core.errors import IncidentError, StoreError
from incident_core.ports import StoreTransaction
from incident_core.process import (
    Accepted,
    Outcome,
    ParkedStep,
    ProcessManager,
    Rejected,
    SagaOutcome,
)
from incident_core.projections.definition import Projection, ProjectionSpec, RowBuffer
from incident_core.values import ValueRefused, aggregate_key, find_unrepresentable, format_path

if TYPE_CHECKING:
    from incident_core.engine.application import Application

__all__ = ["Unit", "dumps", "pending_from_envelope"]


def pending_from_envelope(envelope: dict[str, Any]) -> PendingEvent:
    found = find_unrepresentable(envelope.get("data"))
    if found is not None:
        raise StoreError(f"event {envelope.get('event_id')}: data.{format_path(found[0])}: "
                         f"{found[1]}")
    try:
        metadata = envelope.get("metadata") or {}
        return PendingEvent(
            str(envelope["event_id"]), str(envelope["aggregate_id"]),
            str(envelope["aggregate_type"]), str(envelope["event_type"]),
            int(envelope["version"]), str(envelope["recorded_at"]),
            dumps(envelope["data"]), dumps(metadata), int(envelope.get("schema_version", 1)),
            metadata.get("correlation_id"), metadata.get("causation_id"), envelope["data"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"not an event envelope: missing or bad {exc}") from None


dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode


class Unit:
    """One write transaction's work: commands, projections and saga steps, atomically."""

    def __init__(self, app: Application, tx: StoreTransaction, *,
                 park: dict[tuple[str, int], ParkedStep] | None = None) -> None:
        self.app = app
        self.tx = tx
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
        app = self.app
        aggregate = app.domain.aggregate_for(command)
        key = aggregate_key(command.aggregate_id)
        known = self.states.get(key)
        try:
            if known is not None and known[0] == aggregate.name:
                version, state = known[1], known[2]
            else:
                version, state = app._load(aggregate, key, self.tx.read_stream)
        except WrongAggregateType as exc:
            return Rejected("wrong_aggregate_type", str(exc))
        decision = app._decide(aggregate, state, command)
        if isinstance(decision, Rejection):
            return Rejected.of(decision)
        if cause is None:
            command_id = str(uuid.uuid4())
            meta = {"correlation_id": command_id, "causation_id": command_id,
                    "command_id": command_id}
        else:
            meta = {"correlation_id": cause.correlation_id or cause.event_id,
                    "causation_id": cause.event_id, "command_id": str(uuid.uuid4())}
            if self.step is not None:
                meta["process_manager"] = self.step[0]
        pending, events = app._pending(aggregate, command, version, decision, meta)
        recorded = self.record(pending, events)
        self.states[key] = (aggregate.name, version + len(events),
                            app._apply_all(aggregate, state, events))
        aggregate_snapshots.save_if_due(self.tx, aggregate, key, version, self.states[key][1],
                                        self.states[key][2])
        return Accepted(recorded)

    def record(self, pending: list[PendingEvent],
               events: Sequence[Event] | None) -> list[RecordedEvent]:
        recorded = self.tx.append(pending)
        if events is not None:
            for rec, event in zip(recorded, events, strict=True):
                self.decoded[rec.event_id] = event
        if self.step is not None:
            for rec in recorded:
                self.step_of[rec.event_id] = self.step
        self.recorded.extend(recorded)
        return recorded

    def event_of(self, recorded: RecordedEvent) -> Event:
        event = self.decoded.get(recorded.event_id)
        return event if event is not None else self.app._decode(recorded)

    def drain(self, limit: int) -> int:
        """Let each process manager handle its pending events (up to `limit` in all).
        A step listed in `park` is parked instead of run, and its checkpoint moves on."""
        handled = 0
        for pm in self.app.domain.process_managers.values():
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

    def finish(self, *, fast_forward: bool, skip_sagas: bool = False) -> bool:
        """Bring projections up to the new head. Return True if saga work is pending.
        `skip_sagas`: process managers that were up to date skip this unit's events."""
        head = self.tx.head()
        for projection in self.app.domain.projections.values():
            self._project(projection, head)
        pending = False
        for pm in self.app.domain.process_managers.values():
            checkpoint = self.tx.checkpoint(pm.name) or 0
            if checkpoint == head:
                continue
            handles = set(pm.event_type_names)
            quiet = not any(r.event_type in handles for r in self.recorded
                            if r.position > checkpoint)
            up_to_date = fast_forward and checkpoint == self.head_before and (quiet or skip_sagas)
            if up_to_date or not self.tx.events_after(checkpoint, event_types=list(handles),
                                                       limit=1):
                self.tx.set_checkpoint(pm.name, head)
            else:
                pending = True
        return pending

    def _project(self, projection: Projection[Any], head: int) -> None:
        tx = self.tx
        checkpoint = tx.checkpoint(projection.name)
        if checkpoint is None:
            tx.ensure_projection(projection.spec)
            checkpoint = 0
        if checkpoint >= head:
            return
        if checkpoint < self.head_before:
            todo = tx.events_after(checkpoint, event_types=projection.event_type_names)
        else:
            todo = [r for r in self.recorded if r.position > checkpoint
                    and projection.handles(r.event_type)]
        spec = projection.spec
        knows = self.app.domain.knows_event
        work = []
        for recorded in todo:
            if knows(recorded.event_type):
                event = self.event_of(recorded)
                work.append((projection.key_for(recorded, event), recorded, event))
        if not work:  # nothing for this projection: only its checkpoint moves
            tx.set_checkpoint(projection.name, head)
            return
        trail = LineageTrail(projection.name) if projection.lineage else None
        buffer = RowBuffer(projection, lambda keys: tx.get_rows(spec, keys), trail=trail)
        buffer.prefetch(key for key, _, _ in work)
        last: dict[str, RecordedEvent] = {}
        for key, recorded, event in work:
            try:
                buffer.apply(key, recorded, event)
            except Exception as exc:
                self._blame(recorded, exc)
                if isinstance(exc, IncidentError):
                    raise
                raise DomainCodeError(f"projection {projection.name} on "
                                      f"{recorded.event_type}", exc) from exc
            last[key] = recorded
        puts, deletes = buffer.changes()
        self._check_rows(spec, puts, last)
        tx.put_rows(spec, puts)
        tx.delete_rows(spec, deletes)
        if trail is not None:
            tx.record_lineage(trail.entries)
        tx.set_checkpoint(projection.name, head)

    def _blame(self, recorded: RecordedEvent, exc: Exception) -> None:
        """An event a saga step recorded broke a projection: that step fails (is parked)."""
        step = self.step_of.get(recorded.event_id)
        if step is not None:
            cause = step[1]
            raise StepFailed(parked_step(step[0], cause, exc)) from exc

    def _check_rows(self, spec: ProjectionSpec, rows: Sequence[dict[str, Any]],
                    last: dict[str, RecordedEvent]) -> None:
        """Refuse rows the projection's table cannot hold (the command changes nothing)."""
        for row in rows:
            problem = row_problem(spec, row)
            if problem is None:
                continue
            recorded = last[str(row[spec.key])]
            error = ValueRefused(str(recorded.metadata.get("command_type", "command")),
                                 (f"projection {spec.name}", problem[0]), problem[1])
            self._blame(recorded, error)
            raise error

    def publish(self) -> None:
        """After commit: remember states and tell listeners."""
        for aggregate_id, (aggregate_type, version, state) in self.states.items():
            self.app._remember(aggregate_type, aggregate_id, version, state)
        self.app._notify(self.recorded)


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
                type(command).__name__, aggregate_key(command.aggregate_id), outcome.reason,
                outcome.detail, format_time(utc_now())))
        return outcome
