"""The command path: validate → load → execute → append → project → run process managers."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from pydantic import BaseModel

from incident_core.domain import Aggregate, Command, Domain, Event, Rejection
from incident_core.engine import aggregate_snapshots, committing, idempotent, lineage, recording
from incident_core.engine.cascade import preview_cascade
from incident_core.engine.lineage import LineageQueries
from incident_core.engine.parking import write_guard
from incident_core.engine.results import (
    AggregateState,
    Conflicted,
    DispatchResult,
    DomainCodeError,
    Preview,
    WrongAggregateType,
)
from incident_core.engine.sagas import ProcessManagers
from incident_core.engine.unit import Unit, pending_from_envelope
from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import (
    ConcurrencyError,
    IncidentError,
    StoreError,
    UnknownProjection,
)
from incident_core.ports import EventStore
from incident_core.process import Accepted, Outcome, Rejected
from incident_core.projections.definition import Projection
from incident_core.store.open import open_store
from incident_core.values import (
    aggregate_key,
)

__all__ = [
    "AggregateState",
    "Application",
    "Conflicted",
    "DispatchResult",
    "DomainCodeError",
    "Preview",
]


if TYPE_CHECKING:
    from incident_core.engine.group_commit import GroupCommit

Listener = Callable[[list[RecordedEvent]], None]


class Application(ProcessManagers, LineageQueries):
    """A domain running over a store. Thread-safe; one per process per store is enough."""

    def __init__(self, store: EventStore, domain: Domain, *, max_attempts: int = 10,
                 cache_size: int = 50_000, group_commit: bool = True) -> None:
        self.store = store
        # Concurrent dispatches share durable commits (incident_core.engine.group_commit).
        self._group: GroupCommit | None = None
        if group_commit and not store.read_only and store.group_commit:
            from incident_core.engine.group_commit import GroupCommit

            self._group = GroupCommit(cast(Any, store))
        self.domain = domain
        self.max_attempts = max_attempts
        self._cache: OrderedDict[str, tuple[str, int, BaseModel]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._listeners: list[Listener] = []
        # Why the sagas could not be finished when the store was opened (they resume on
        # the next write); None when they ran.
        self.saga_error: str | None = None
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
              read: Callable[..., list[RecordedEvent]], *,
              trust_cache: bool = False) -> tuple[int, BaseModel]:
        base = self._cached(aggregate, aggregate_id)
        if trust_cache and base[0] > 0:
            return base
        if base[0] == 0:
            base = aggregate_snapshots.latest(self.store, aggregate, aggregate_id) or base
        return self._fold(aggregate, aggregate_id, base, read(aggregate_id, after_version=base[0]))

    def state(self, aggregate_id: str | int | UUID, *,
              at_version: int | None = None) -> AggregateState | None:
        """The aggregate's state from replay (at `at_version`, or now); None if no stream."""
        aggregate_id = aggregate_key(aggregate_id)
        info = self.store.stream(aggregate_id)
        if info is None or (at_version is not None and at_version < 1):
            return None
        aggregate = self.domain.aggregate_named(info.aggregate_type)
        if aggregate is None:
            raise IncidentError(f"aggregate type {info.aggregate_type!r} is not part of "
                                f"the domain {self.domain.name!r}")
        base = (aggregate_snapshots.latest(self.store, aggregate, aggregate_id, at_version)
                or (0, aggregate.initial_state))
        events = self.store.read_stream(aggregate_id, after_version=base[0],
                                        to_version=at_version)
        version, state = self._fold(aggregate, aggregate_id, base, events)
        return AggregateState(aggregate_id, aggregate.name, version, state)

    # -- the command path ---------------------------------------------------------------
    def _pending(self, aggregate: Aggregate[Any], command: Command, version: int,
                 events: Sequence[Event], metadata: dict[str, Any],
                 ) -> tuple[list[PendingEvent], list[Event]]:
        return recording.pending_events(self.domain, aggregate, command, version, events,
                                        metadata)

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
        key = aggregate_key(command.aggregate_id)
        try:
            version, state = self._load(aggregate, key, self.store.read_stream)
        except WrongAggregateType as exc:
            before = AggregateState(key, aggregate.name, 0, aggregate.initial_state)
            return Preview(before, [], None, Rejected("wrong_aggregate_type", str(exc)))
        before = AggregateState(key, aggregate.name, version, state)
        decision = self._decide(aggregate, state, command)
        if isinstance(decision, Rejection):
            return Preview(before, [], None, Rejected.of(decision))
        _, events = self._pending(aggregate, command, version, decision, {})
        after = AggregateState(key, aggregate.name, version + len(events),
                               self._apply_all(aggregate, state, events))
        return Preview(before, events, after, None, cascade=preview_cascade(self, command)
                       if self.domain.process_managers else None)

    def dispatch(self, command: Command, *, metadata: dict[str, Any] | None = None,
                 idempotency_key: str | None = None) -> DispatchResult:
        """Execute a validated command. Optimistic: on a version conflict, reload and retry.
        Once its events are committed the result is Accepted, whatever its sagas do.
        `idempotency_key` becomes the command id: if a command with that id was recorded
        before (by any process), its events are returned (`replayed`) and nothing is
        recorded. A rejected command records nothing, so its key stays free."""
        aggregate = self.domain.aggregate_for(command)
        key = aggregate_key(command.aggregate_id)
        earlier = idempotent.earlier(self.store.events_with_metadata, idempotency_key, command)
        if earlier:
            return Accepted(earlier, replayed=True)
        command_id = idempotency_key or str(uuid.uuid4())
        meta = {"correlation_id": command_id, "causation_id": command_id,
                "command_id": command_id, **(metadata or {})}
        verify = False
        for _attempt in range(self.max_attempts):
            # Optimistic: a cached state is used without reading the store. If another
            # writer recorded newer events meanwhile, the append conflicts on (aggregate_id,
            # version) and the retry reads them; a refusal is only returned on state that
            # was read from the store just now.
            trusted = not verify and self._cached(aggregate, key)[0] > 0
            try:
                version, state = self._load(aggregate, key, self.store.read_stream,
                                            trust_cache=trusted)
            except WrongAggregateType as exc:
                return Rejected("wrong_aggregate_type", str(exc))
            plan = committing.Plan(command, idempotency_key, meta, aggregate, key, version,
                                   state)
            rejection = plan.decide(self)
            if rejection is not None:
                if trusted:
                    verify = True
                    continue
                return Rejected.of(rejection)
            try:
                with write_guard():
                    written = committing.commit(self.store, self._group,
                                                partial(committing.record_command, self, plan))
            except ConcurrencyError:
                verify = True  # the cached state is still a committed one: read the rest
                continue
            if written.earlier:  # another process recorded it meanwhile
                return Accepted(written.earlier, replayed=True)
            if written.rejection is not None:  # decided again on a batch-mate's events
                return Rejected.of(written.rejection)
            assert plan.new_state is not None
            self._remember(aggregate.name, key, plan.version + len(plan.events), plan.new_state)
            written.unit.publish()
            recorded = written.unit.recorded
            if written.saga_work:
                return self._run_sagas_after(recorded, str(meta.get("correlation_id")))
            return Accepted(recorded)
        return Conflicted(key, self.max_attempts)

    def _run_sagas_after(self, recorded: list[RecordedEvent], correlation_id: str) -> Accepted:
        """Run the sagas a committed command started; their failures go with the result."""
        try:
            _, parked = self._drain()
        except IncidentError as exc:
            return Accepted(recorded, saga_error=str(exc))
        return Accepted(recorded, saga_failures=tuple(
            p for p in parked if p.correlation_id == correlation_id))

    def dispatch_data(self, command_type: str, data: dict[str, Any] | str | bytes, *,
                      metadata: dict[str, Any] | None = None,
                      idempotency_key: str | None = None) -> DispatchResult:
        """Validate raw input (raises UnknownCommand / InvalidCommand), then dispatch."""
        return self.dispatch(self.domain.parse_command(command_type, data), metadata=metadata,
                             idempotency_key=idempotency_key)

    def dispatch_many(self, commands: Sequence[Command]) -> list[Outcome]:
        """Execute commands one after another in a single transaction (bulk seeding).
        Each sees the effects of the previous ones; process managers run afterwards."""
        with write_guard(), self.store.transaction() as tx:
            unit = Unit(self, tx)
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
        pending = [pending_from_envelope(e) for e in envelopes]
        with write_guard(), self.store.transaction() as tx:
            present = tx.existing_event_ids([p.event_id for p in pending])
            if present:
                raise StoreError(f"{len(present)} of these events are already in the store "
                                 f"(e.g. {sorted(present)[0]}); nothing was imported")
            unit = Unit(self, tx)
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
        lineage.stage(self, projection, checkpoint)  # in short transactions of its own
        with write_guard(), self.store.transaction() as tx:
            tx.replace_projection(projection.spec, rows, checkpoint)
            lineage.promote(tx, projection)
            unit = Unit(self, tx)
            unit._project(projection, tx.head())

    # -- projections ------------------------------------------------------------------
    def projection(self, name: str) -> Projection[Any]:
        try:
            return self.domain.projections[name]
        except KeyError:
            raise UnknownProjection(name, sorted(self.domain.projections)) from None

    def _prepare(self) -> None:
        """Create missing projection tables, then finish interrupted saga work."""
        with write_guard(), self.store.transaction() as tx:
            for projection in self.domain.projections.values():
                tx.ensure_projection(projection.spec)
            unit = Unit(self, tx)
            saga_work = unit.finish(fast_forward=False)
        unit.publish()
        if saga_work:  # only then: draining costs another write transaction
            try:
                self.run_process_managers()
            except StoreError as exc:  # opening never fails because of saga work
                self.saga_error = str(exc)
