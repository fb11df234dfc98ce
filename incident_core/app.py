"""The command path: validate → load → execute → append → project → run process managers."""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from incident_core.domain import Aggregate, Command, Domain, Event, Rejection
from incident_core.envelope import PendingEvent, RecordedEvent, format_time, utc_now
from incident_core.errors import (
    ConcurrencyError,
    IncidentError,
    StoreError,
    UnknownProjection,
)
from incident_core.process import Accepted, Outcome, Rejected
from incident_core.projections.definition import Projection, RowBuffer
from incident_core.store.base import EventStore, StoreTransaction
from incident_core.store.open import open_store

__all__ = [
    "AggregateState",
    "Application",
    "Conflicted",
    "DispatchResult",
    "DomainCodeError",
    "Preview",
]


@dataclass(frozen=True, slots=True)
class Conflicted:
    """Other writers kept winning the same aggregate version; retries were exhausted."""

    aggregate_id: str
    attempts: int
    ok: bool = False
    reason: str = "conflict"


DispatchResult = Accepted | Rejected | Conflicted


class DomainCodeError(IncidentError):
    """Domain code (an aggregate, projection or saga) raised; nothing was written."""

    def __init__(self, where: str, original: BaseException) -> None:
        super().__init__(f"{where} raised {type(original).__name__}: {original}")
        self.where = where
        self.original = original


@dataclass(frozen=True, slots=True)
class AggregateState:
    aggregate_id: str
    aggregate_type: str
    version: int
    state: BaseModel

    def to_json(self) -> dict[str, Any]:
        return {"aggregate_id": self.aggregate_id, "aggregate_type": self.aggregate_type,
                "version": self.version, "state": self.state.model_dump(mode="json")}


@dataclass(frozen=True, slots=True)
class Preview:
    """What a command would do now: the events it would record and the resulting state."""

    before: AggregateState
    events: list[Event]
    after: AggregateState | None
    rejection: Rejected | None

    @property
    def ok(self) -> bool:
        return self.rejection is None


class WrongAggregateType(IncidentError):
    def __init__(self, aggregate_id: str, found: str, wanted: str) -> None:
        super().__init__(f"{aggregate_id!r} is a {found}, not a {wanted}")


Listener = Callable[[list[RecordedEvent]], None]


class Application:
    """A domain running over a store. Thread-safe; one per process per store is enough."""

    def __init__(self, store: EventStore, domain: Domain, *, max_attempts: int = 10,
                 cache_size: int = 50_000) -> None:
        self.store = store
        self.domain = domain
        self.max_attempts = max_attempts
        self._cache: OrderedDict[str, tuple[str, int, BaseModel]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._listeners: list[Listener] = []
        if not store.read_only:
            self._prepare()

    @classmethod
    def open(cls, target: str, domain: Domain, *, read_only: bool = False,
             create: bool = False, synchronous: str = "FULL") -> Application:
        store = open_store(target, read_only=read_only, create=create, synchronous=synchronous)
        try:
            return cls(store, domain)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Application:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- notifications ----------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(events)` after each commit made through this application.
        It runs on the thread that committed (often a worker thread). Returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, events: list[RecordedEvent]) -> None:
        if events:
            for listener in list(self._listeners):
                listener(events)

    # -- state ------------------------------------------------------------------------
    def _decode(self, recorded: RecordedEvent) -> Event:
        try:
            return self.domain.decode(recorded.event_type, recorded.data,
                                      recorded.schema_version)
        except IncidentError:
            raise
        except Exception as exc:  # bad stored data, a missing or failing upcaster
            raise DomainCodeError(f"decoding event #{recorded.position} "
                                  f"({recorded.event_type})", exc) from exc

    def _fold(self, aggregate: Aggregate[Any], aggregate_id: str, base: tuple[int, BaseModel],
              events: Iterable[RecordedEvent]) -> tuple[int, BaseModel]:
        version, state = base
        for recorded in events:
            if recorded.aggregate_type != aggregate.name:
                raise WrongAggregateType(aggregate_id, recorded.aggregate_type, aggregate.name)
            event = self._decode(recorded)
            try:
                state = aggregate.apply(state, event)
            except Exception as exc:
                raise DomainCodeError(f"{aggregate.name}.apply", exc) from exc
            version = recorded.version
        return version, state

    def _cached(self, aggregate: Aggregate[Any], aggregate_id: str) -> tuple[int, BaseModel]:
        with self._cache_lock:
            hit = self._cache.get(aggregate_id)
        if hit is not None and hit[0] == aggregate.name:
            return hit[1], hit[2]
        return 0, aggregate.initial_state

    def _remember(self, aggregate_type: str, aggregate_id: str, version: int,
                  state: BaseModel) -> None:
        with self._cache_lock:
            old = self._cache.get(aggregate_id)
            if old is not None and old[1] >= version:
                return
            self._cache[aggregate_id] = (aggregate_type, version, state)
            self._cache.move_to_end(aggregate_id)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _load(self, aggregate: Aggregate[Any], aggregate_id: str,
              read: Callable[..., list[RecordedEvent]]) -> tuple[int, BaseModel]:
        base = self._cached(aggregate, aggregate_id)
        return self._fold(aggregate, aggregate_id, base, read(aggregate_id, after_version=base[0]))

    def state(self, aggregate_id: str, *, at_version: int | None = None) -> AggregateState | None:
        """The aggregate's state from replay (at `at_version`, or now); None if no stream."""
        events = self.store.read_stream(aggregate_id, to_version=at_version)
        if not events:
            return None
        aggregate = self.domain.aggregate_named(events[0].aggregate_type)
        if aggregate is None:
            raise IncidentError(f"aggregate type {events[0].aggregate_type!r} is not part of "
                                f"the domain {self.domain.name!r}")
        version, state = self._fold(aggregate, aggregate_id, (0, aggregate.initial_state),
                                    events)
        return AggregateState(aggregate_id, aggregate.name, version, state)

    # -- the command path ---------------------------------------------------------------
    def _pending(self, aggregate: Aggregate[Any], command: Command, version: int,
                 events: Sequence[Event], metadata: dict[str, Any]) -> list[PendingEvent]:
        recorded_at = format_time(utc_now())
        meta = {**metadata, "command_type": type(command).__name__}
        out = []
        for offset, event in enumerate(events, start=1):
            meta_json = _dumps(meta)
            out.append(PendingEvent(
                str(uuid.uuid4()), command.aggregate_id, aggregate.name, type(event).__name__,
                version + offset, recorded_at, event.model_dump_json(), meta_json,
                type(event).schema_version, meta.get("correlation_id"),
                meta.get("causation_id")))
        return out

    def _decide(self, aggregate: Aggregate[Any], state: BaseModel,
                command: Command) -> list[Event] | Rejection:
        try:
            return aggregate.execute(state, command)
        except IncidentError:
            raise
        except Exception as exc:
            raise DomainCodeError(f"{aggregate.name}.execute({type(command).__name__})",
                                  exc) from exc

    def preview(self, command: Command) -> Preview:
        """Run the aggregate on the current state; record nothing."""
        aggregate = self.domain.aggregate_for(command)
        try:
            version, state = self._load(aggregate, command.aggregate_id, self.store.read_stream)
        except WrongAggregateType as exc:
            before = AggregateState(command.aggregate_id, aggregate.name, 0,
                                    aggregate.initial_state)
            return Preview(before, [], None, Rejected("wrong_aggregate_type", str(exc)))
        before = AggregateState(command.aggregate_id, aggregate.name, version, state)
        decision = self._decide(aggregate, state, command)
        if isinstance(decision, Rejection):
            return Preview(before, [], None, Rejected.of(decision))
        try:
            after_state = aggregate.fold(decision, state)
        except Exception as exc:
            raise DomainCodeError(f"{aggregate.name}.apply", exc) from exc
        after = AggregateState(command.aggregate_id, aggregate.name,
                               version + len(decision), after_state)
        return Preview(before, decision, after, None)

    def dispatch(self, command: Command, *,
                 metadata: dict[str, Any] | None = None) -> DispatchResult:
        """Execute a validated command. Optimistic: on a version conflict, reload and retry."""
        aggregate = self.domain.aggregate_for(command)
        command_id = str(uuid.uuid4())
        meta = {"correlation_id": command_id, "causation_id": command_id,
                "command_id": command_id, **(metadata or {})}
        for _attempt in range(self.max_attempts):
            try:
                version, state = self._load(aggregate, command.aggregate_id,
                                            self.store.read_stream)
            except WrongAggregateType as exc:
                return Rejected("wrong_aggregate_type", str(exc))
            decision = self._decide(aggregate, state, command)
            if isinstance(decision, Rejection):
                return Rejected.of(decision)
            pending = self._pending(aggregate, command, version, decision, meta)
            try:
                with self.store.transaction() as tx:
                    unit = _Unit(self, tx)
                    recorded = unit.record(pending, decision)
                    saga_work = unit.finish(fast_forward=True)
            except ConcurrencyError:
                continue  # the cached state is still a committed one: reload reads the rest
            new_state = self._apply_all(aggregate, state, decision)
            self._remember(aggregate.name, command.aggregate_id, version + len(decision),
                           new_state)
            unit.publish()
            if saga_work:
                self.run_process_managers()
            return Accepted(recorded)
        return Conflicted(command.aggregate_id, self.max_attempts)

    def dispatch_data(self, command_type: str, data: dict[str, Any] | str | bytes, *,
                      metadata: dict[str, Any] | None = None) -> DispatchResult:
        """Validate raw input (raises UnknownCommand / InvalidCommand), then dispatch."""
        return self.dispatch(self.domain.parse_command(command_type, data), metadata=metadata)

    def dispatch_many(self, commands: Sequence[Command]) -> list[Outcome]:
        """Execute commands one after another in a single transaction (bulk seeding).
        Each sees the effects of the previous ones; process managers run afterwards."""
        with self.store.transaction() as tx:
            unit = _Unit(self, tx)
            outcomes = [unit.dispatch(c, None) for c in commands]
            saga_work = unit.finish(fast_forward=True)
        unit.publish()
        if saga_work:
            self.run_process_managers()
        return outcomes

    def _apply_all(self, aggregate: Aggregate[Any], state: BaseModel,
                   events: Sequence[Event]) -> BaseModel:
        try:
            new_state: BaseModel = aggregate.fold(events, state)
        except Exception as exc:
            raise DomainCodeError(f"{aggregate.name}.apply", exc) from exc
        return new_state

    def import_events(self, envelopes: Sequence[dict[str, Any]]) -> list[RecordedEvent]:
        """Append events recorded elsewhere (an export), keeping their ids, versions, times,
        data and metadata; positions are this store's. Refuses events already present.
        Projections follow; process managers skip them (their effects are in the import)."""
        pending = [_pending_from_envelope(e) for e in envelopes]
        with self.store.transaction() as tx:
            present = tx.existing_event_ids([p.event_id for p in pending])
            if present:
                raise StoreError(f"{len(present)} of these events are already in the store "
                                 f"(e.g. {sorted(present)[0]}); nothing was imported")
            unit = _Unit(self, tx)
            try:
                unit.record(pending, None)
            except ConcurrencyError as exc:
                raise StoreError(f"cannot import: {exc} in this store; "
                                 "nothing was imported") from None
            unit.finish(fast_forward=True, skip_sagas=True)
        unit.publish()
        return unit.recorded

    def replace_projection(self, name: str, rows: Iterable[dict[str, Any]],
                           checkpoint: int) -> None:
        """Swap in rows rebuilt from replay up to `checkpoint`, then catch up to the head,
        in one transaction (a failure leaves the previous rows in place)."""
        projection = self.projection(name)
        with self.store.transaction() as tx:
            tx.replace_projection(projection.spec, rows, checkpoint)
            unit = _Unit(self, tx)
            unit._project(projection, tx.head())

    # -- process managers ----------------------------------------------------------------
    def run_process_managers(self, *, batch: int = 500) -> int:
        """Handle every event the process managers have not handled yet; return how many.
        Each batch commits together with the commands it caused and the checkpoints."""
        if self.store.read_only or not self.domain.process_managers:
            return 0
        total = 0
        while True:
            with self.store.transaction() as tx:
                unit = _Unit(self, tx)
                handled = unit.drain(batch)
                more = unit.finish(fast_forward=False)
            unit.publish()
            total += handled
            if handled == 0 or not more:
                return total

    # -- projections ------------------------------------------------------------------
    def projection(self, name: str) -> Projection[Any]:
        try:
            return self.domain.projections[name]
        except KeyError:
            raise UnknownProjection(name, sorted(self.domain.projections)) from None

    def _prepare(self) -> None:
        """Create missing projection tables, then finish interrupted saga work."""
        with self.store.transaction() as tx:
            for projection in self.domain.projections.values():
                tx.ensure_projection(projection.spec)
            unit = _Unit(self, tx)
            unit.finish(fast_forward=False)
        unit.publish()
        self.run_process_managers()


def _pending_from_envelope(envelope: dict[str, Any]) -> PendingEvent:
    try:
        metadata = envelope.get("metadata") or {}
        return PendingEvent(
            str(envelope["event_id"]), str(envelope["aggregate_id"]),
            str(envelope["aggregate_type"]), str(envelope["event_type"]),
            int(envelope["version"]), str(envelope["recorded_at"]),
            _dumps(envelope["data"]), _dumps(metadata), int(envelope.get("schema_version", 1)),
            metadata.get("correlation_id"), metadata.get("causation_id"), envelope["data"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"not an event envelope: missing or bad {exc}") from None


_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode


class _Unit:
    """One write transaction's work: commands, projections and saga steps, atomically."""

    def __init__(self, app: Application, tx: StoreTransaction) -> None:
        self.app = app
        self.tx = tx
        self.head_before = tx.head()
        self.recorded: list[RecordedEvent] = []
        self.decoded: dict[str, Event] = {}
        self.states: dict[str, tuple[str, int, BaseModel]] = {}

    # SagaContext
    def dispatch(self, command: Command, cause: RecordedEvent | None) -> Outcome:
        app = self.app
        aggregate = app.domain.aggregate_for(command)
        known = self.states.get(command.aggregate_id)
        try:
            if known is not None and known[0] == aggregate.name:
                version, state = known[1], known[2]
            else:
                version, state = app._load(aggregate, command.aggregate_id, self.tx.read_stream)
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
        recorded = self.record(app._pending(aggregate, command, version, decision, meta),
                               decision)
        self.states[command.aggregate_id] = (aggregate.name, version + len(decision),
                                             app._apply_all(aggregate, state, decision))
        return Accepted(recorded)

    def record(self, pending: list[PendingEvent],
               events: Sequence[Event] | None) -> list[RecordedEvent]:
        recorded = self.tx.append(pending)
        if events is not None:
            for rec, event in zip(recorded, events, strict=True):
                self.decoded[rec.event_id] = event
        self.recorded.extend(recorded)
        return recorded

    def event_of(self, recorded: RecordedEvent) -> Event:
        event = self.decoded.get(recorded.event_id)
        return event if event is not None else self.app._decode(recorded)

    def drain(self, limit: int) -> int:
        """Let each process manager handle its pending events (up to `limit` in all)."""
        handled = 0
        for pm in self.app.domain.process_managers.values():
            checkpoint = self.tx.checkpoint(pm.name) or 0
            for recorded in self.tx.events_after(checkpoint, event_types=pm.event_type_names,
                                                 limit=limit - handled):
                context = _SagaContext(self, recorded)
                try:
                    pm.handle(self.event_of(recorded), recorded, context)
                except IncidentError:
                    raise
                except Exception as exc:
                    raise DomainCodeError(f"process manager {pm.name} on "
                                          f"{recorded.event_type}", exc) from exc
                self.tx.set_checkpoint(pm.name, recorded.position)
                handled += 1
            if handled >= limit:
                break
        return handled

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
        buffer = RowBuffer(projection, lambda keys: tx.get_rows(spec, keys))
        buffer.prefetch(key for key, _, _ in work)
        for key, recorded, event in work:
            try:
                buffer.apply(key, recorded, event)
            except IncidentError:
                raise
            except Exception as exc:
                raise DomainCodeError(f"projection {projection.name} on "
                                      f"{recorded.event_type}", exc) from exc
        puts, deletes = buffer.changes()
        tx.put_rows(spec, puts)
        tx.delete_rows(spec, deletes)
        tx.set_checkpoint(projection.name, head)

    def publish(self) -> None:
        """After commit: remember states and tell listeners."""
        for aggregate_id, (aggregate_type, version, state) in self.states.items():
            self.app._remember(aggregate_type, aggregate_id, version, state)
        self.app._notify(self.recorded)


class _SagaContext:
    def __init__(self, unit: _Unit, cause: RecordedEvent) -> None:
        self._unit = unit
        self._cause = cause

    def dispatch(self, command: Command) -> Outcome:
        return self._unit.dispatch(command, self._cause)
