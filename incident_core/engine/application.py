"""The application: a domain running over a store.

A command goes validate → decide (`incident_core.engine.deciding`: load, fold, execute,
encode once) → write in a unit of work (`incident_core.engine.unit`: record, project,
checkpoint, committed alone or grouped) → publish (states remembered, listeners told) →
run process managers (`incident_core.engine.sagas`). `Application` wires these together
and holds no step of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

from incident_core import telemetry
from incident_core.domain import Domain
from incident_core.engine import committing, idempotent, lineage
from incident_core.engine.cascade import preview_cascade
from incident_core.engine.deciding import Decider
from incident_core.engine.group_commit import GroupCommit
from incident_core.engine.immutable import own
from incident_core.engine.lineage import LineageQueries
from incident_core.engine.listeners import Listener, Listeners
from incident_core.engine.opening import open_target
from incident_core.engine.parking import write_guard
from incident_core.engine.recording import envelope_from
from incident_core.engine.results import (
    AggregateState,
    Conflicted,
    DispatchResult,
    DomainCodeError,
    Preview,
    WrongAggregateType,
)
from incident_core.engine.sagas import ProcessManagers
from incident_core.engine.shared_writer import SharedWriter
from incident_core.envelope import RecordedEvent
from incident_core.errors import ConcurrencyError, IncidentError, StoreError, UnknownProjection
from incident_core.ids import new_id
from incident_core.messages import Command, Rejection
from incident_core.ports import EventStore
from incident_core.process import Accepted, Outcome, Rejected
from incident_core.projections.definition import Projection
from incident_core.values import aggregate_key, refuse_nul

__all__ = [
    "AggregateState",
    "Application",
    "Conflicted",
    "DispatchResult",
    "DomainCodeError",
    "Preview",
]


class Application(ProcessManagers, LineageQueries):
    """A domain running over a store. Thread-safe; one per process per store is enough."""

    def __init__(self, store: EventStore, domain: Domain, *, max_attempts: int = 10,
                 cache_size: int = 50_000, group_commit: bool = True) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.decider = Decider(domain, store, cache_size=cache_size)
        self.listeners = Listeners()
        # The store's writer process, when several share one (engine.shared_writer).
        self.shared_writer: SharedWriter | None = None
        # Concurrent dispatches share durable commits (incident_core.engine.group_commit).
        self.group_commit: GroupCommit | None = None
        if group_commit and not store.read_only and store.group_commit:
            self.group_commit = GroupCommit(store)
        # Why the sagas could not be finished when the store was opened (they resume on
        # the next write); None when they ran.
        self.saga_error: str | None = None
        if not store.read_only:
            self._prepare()
        telemetry.watch(self)  # projection lag, while telemetry is enabled

    @property
    def domain(self) -> Domain:
        """The domain the application runs (the decide step's)."""
        return self.decider.domain

    @domain.setter
    def domain(self, domain: Domain) -> None:
        self.decider.domain = domain

    @classmethod
    def open(cls, target: str, domain: Domain, *, read_only: bool = False,
             create: bool = False, synchronous: str = "FULL",
             shared_writer: bool = False) -> Application:
        """`shared_writer`: the processes that open a SQLite file so share one writer
        process, and its durable commits (`incident_core.engine.shared_writer`)."""
        store = open_target(target, read_only=read_only, create=create, synchronous=synchronous)
        try:
            app = cls(store, domain)
            if shared_writer and not read_only:
                app.shared_writer = SharedWriter.for_target(app, target)
            return app
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        telemetry.unwatch(self)
        if self.shared_writer is not None:
            self.shared_writer.close()
        self.store.close()

    def __enter__(self) -> Application:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(events)` after each commit made through this application.
        It runs on the thread that committed (often a worker thread). Returns unsubscribe."""
        return self.listeners.subscribe(listener)

    @telemetry.traced("incident.replay", root=True, summary=telemetry.state_replayed)
    def state(self, aggregate_id: str | int | UUID, *,
              at_version: int | None = None) -> AggregateState | None:
        """The aggregate's state from replay (at `at_version`, or now); None if no stream."""
        return self.decider.state(aggregate_key(aggregate_id), at_version)

    # -- the command path ---------------------------------------------------------------
    def preview(self, command: Command) -> Preview:
        """Run the aggregate on the current state; record nothing."""
        aggregate, key = self.decider.target(command)
        try:
            version, state = self.decider.load(aggregate, key, self.store)
        except WrongAggregateType as exc:
            before = AggregateState(key, aggregate.name, 0, own(aggregate.initial_state))
            return Preview(before, [], None, Rejected("wrong_aggregate_type", str(exc)))
        before = AggregateState(key, aggregate.name, version, own(state))  # not the cache's
        decided = self.decider.decide(aggregate, key, version, state, command, {})
        if isinstance(decided, Rejection):
            return Preview(before, [], None, Rejected.of(decided))
        after = AggregateState(key, aggregate.name, decided.new_version, decided.after)
        cascade = (preview_cascade(self.decider, self.store, command)
                   if self.domain.process_managers else None)
        return Preview(before, decided.events, after, None, cascade=cascade)

    @telemetry.traced_dispatch
    def dispatch(self, command: Command, *, metadata: dict[str, Any] | None = None,
                 idempotency_key: str | None = None) -> DispatchResult:
        """Execute a validated command. Optimistic: on a version conflict, reload and retry.
        Once its events are committed the result is Accepted, whatever its sagas do.
        `idempotency_key` becomes the command id: if a command with that id was recorded
        before (by any process), its events are returned (`replayed`) and nothing is
        recorded. A rejected command records nothing, so its key stays free."""
        if self.shared_writer is not None:  # the store's writer process dispatches it
            return self.shared_writer.dispatch(command, metadata, idempotency_key)
        return self.dispatch_here(command, metadata=metadata, idempotency_key=idempotency_key)

    def dispatch_here(self, command: Command, *, metadata: dict[str, Any] | None = None,
                      idempotency_key: str | None = None,
                      first_id: str | None = None) -> DispatchResult:
        """`dispatch` in this process, whichever process is the store's shared writer.
        `first_id`: the first event's id when the caller made it (`new_id`; the shared
        writer's fresh key, already the command's id in `metadata`)."""
        aggregate, key = self.decider.target(command)
        refuse_nul(command, ("idempotency_key",), idempotency_key)  # alike on every store
        if idempotency_key is not None and (earlier := idempotent.earlier(
                self.store.events_with_metadata, idempotency_key, command)):
            return Accepted(earlier, replayed=True)
        first_id = first_id or new_id()  # the first event's id: the command's, unless keyed
        command_id = idempotency_key or first_id
        meta = {"correlation_id": command_id, "causation_id": command_id,
                "command_id": command_id}
        if metadata:
            meta.update(metadata)
        plan = committing.Plan(command, idempotency_key, meta, aggregate, key, first_id)
        for _attempt in range(self.max_attempts):
            result = self._attempt(plan)
            if result is not None:
                return result
        return Conflicted(key, self.max_attempts)

    def _attempt(self, plan: committing.Plan) -> DispatchResult | None:
        """Decide and commit once; None when it must be tried again.
        Optimistic: a cached state is used without reading the store. If another writer
        recorded newer events meanwhile, the append conflicts on (aggregate_id, version)
        and the retry reads them; a refusal is only returned on state that was read from
        the store just now."""
        decider = self.decider
        cached = None if plan.verify else decider.cache.get(plan.aggregate, plan.key)
        trusted = cached is not None and cached[0] > 0
        try:  # a cache hit goes through `load` too: it is the trace's `incident.load` phase
            version, state = decider.load(plan.aggregate, plan.key, self.store,
                                          trust_cache=trusted, cached=cached)
        except WrongAggregateType as exc:
            return Rejected("wrong_aggregate_type", str(exc))
        rejection = plan.decide(decider, version, state)
        if rejection is not None:
            plan.verify = trusted
            return None if trusted else Rejected.of(rejection)
        try:
            with write_guard():
                written = committing.commit(self.store, self.group_commit, partial(
                    committing.record_command, decider, self.listeners, plan))
        except ConcurrencyError:
            plan.verify = True  # the cached state is still a committed one: read the rest
            return None
        if written.earlier:  # another process recorded it meanwhile
            return Accepted(written.earlier, replayed=True)
        if written.rejection is not None:  # decided again on a batch-mate's events
            return Rejected.of(written.rejection)
        written.unit.publish()
        if written.saga_work:
            return self._run_sagas_after(written.unit.recorded, str(plan.meta["correlation_id"]))
        return Accepted(written.unit.recorded)

    @telemetry.traced("incident.sagas")
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
            unit = self._unit(tx)
            outcomes = [unit.dispatch(c, None) for c in commands]
            saga_work = unit.finish(fast_forward=True)
        unit.publish()
        if saga_work:
            self.run_process_managers()
        return outcomes

    @telemetry.traced("incident.import.batch")
    def import_events(self, envelopes: Sequence[dict[str, Any]]) -> list[RecordedEvent]:
        """Append events recorded elsewhere (an export), keeping their ids, versions, times,
        data and metadata; positions are this store's. Refuses events already present.
        Projections follow; process managers skip them (their effects are in the import)."""
        checked = [envelope_from(e) for e in envelopes]
        with write_guard(), self.store.transaction() as tx:
            present = tx.existing_event_ids([e["event_id"] for e in checked])
            if present:
                raise StoreError(f"{len(present)} of these events are already in the store "
                                 f"(e.g. {sorted(present)[0]}); nothing was imported")
            unit = self._unit(tx)
            try:
                unit.record_envelopes(checked, None)
                unit.finish(fast_forward=True, skip_sagas=True)
            except ConcurrencyError as exc:
                raise StoreError(f"cannot import: {exc} in this store; "
                                 "nothing was imported") from None
        unit.publish()
        return unit.recorded

    # -- projections ------------------------------------------------------------------
    def projection(self, name: str) -> Projection[Any]:
        try:
            return self.domain.projections[name]
        except KeyError:
            raise UnknownProjection(name, sorted(self.domain.projections)) from None

    def replace_projection(self, name: str, rows: Iterable[dict[str, Any]],
                           checkpoint: int, *, lineage_staged: bool = False) -> None:
        """Swap in rows rebuilt from replay up to `checkpoint`, then catch up to the head,
        in one transaction (a failure leaves the previous rows in place). The rows' lineage
        is staged first, unless the caller folded it already (`lineage.StagedLineage`)."""
        projection = self.projection(name)
        if not lineage_staged:
            lineage.stage(self, projection, checkpoint)  # in short transactions of its own
        with write_guard(), self.store.transaction() as tx:
            tx.replace_projection(projection.spec, rows, checkpoint)
            lineage.promote(tx, projection)
            self._unit(tx).project(projection, tx.head())

    def _prepare(self) -> None:
        """Create missing projection tables, then finish interrupted saga work."""
        with write_guard(), self.store.transaction() as tx:
            for projection in self.domain.projections.values():
                tx.ensure_projection(projection.spec)
                lineage.mark(tx, projection)
            unit = self._unit(tx)
            saga_work = unit.finish(fast_forward=False)
        unit.publish()
        if saga_work:  # only then: draining costs another write transaction
            try:
                self.run_process_managers()
            except StoreError as exc:  # opening never fails because of saga work
                self.saga_error = str(exc)
