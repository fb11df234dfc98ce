"""The one decide step: load an aggregate, decide on a command, encode the events once.

`Decider.load` takes an aggregate's state from the committed-state cache, else from its
newest usable snapshot, and folds the stream's remaining events (decoded by the one
decoder); `Decider.decide` runs the aggregate's `execute`, encodes each event once and
decodes it back (`incident_core.engine.recording`), and folds the decoded events into the
new state. Dispatch, saga steps, `dispatch_many` and preview all decide here; nothing is
written (the unit of work records a `Decided`, `incident_core.engine.unit`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from incident_core import telemetry
from incident_core.domain import Aggregate, Domain
from incident_core.engine import aggregate_snapshots, loading
from incident_core.engine.immutable import own, unchanged
from incident_core.engine.loading import StreamSource
from incident_core.engine.recording import pending_events
from incident_core.engine.results import AggregateState, DomainCodeError
from incident_core.envelope import PendingEvent
from incident_core.errors import IncidentError
from incident_core.messages import Command, Event, Rejection
from incident_core.ports import EventStore
from incident_core.values import command_key

__all__ = ["Decided", "Decider", "StateCache"]


@dataclass(slots=True)
class Decided:
    """A command decided on a state: the events to record (`pending`), the same events as a
    replay will decode them (`events`) and the state after them. `events` were folded into
    `after`: projections and sagas get their own copies of changeable ones."""

    aggregate: Aggregate[Any]
    key: str
    version: int  # the stream's version it was decided on
    pending: list[PendingEvent]
    events: list[Event]
    after: BaseModel

    @property
    def new_version(self) -> int:
        return self.version + len(self.events)


class StateCache:
    """Committed aggregate states by aggregate id, least recently used dropped first.
    Thread-safe; a state older than the one kept is ignored."""

    def __init__(self, size: int) -> None:
        self._states: OrderedDict[str, tuple[str, int, BaseModel]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, aggregate: Aggregate[Any], aggregate_id: str) -> tuple[int, BaseModel]:
        """(version, state) kept for this aggregate, else (0, its initial state)."""
        with self._lock:
            hit = self._states.get(aggregate_id)
        if hit is not None and hit[0] == aggregate.name:
            return hit[1], hit[2]
        return 0, aggregate.initial_state

    def put(self, aggregate_type: str, aggregate_id: str, version: int,
            state: BaseModel) -> None:
        with self._lock:
            old = self._states.get(aggregate_id)
            if old is not None and old[1] >= version:
                return
            self._states[aggregate_id] = (aggregate_type, version, state)
            self._states.move_to_end(aggregate_id)
            if len(self._states) > self._size:
                self._states.popitem(last=False)


class Decider:
    """A domain's decide step over a store's committed state (see the module)."""

    def __init__(self, domain: Domain, store: EventStore, *, cache_size: int = 50_000) -> None:
        self.domain = domain
        self.store = store
        self.cache = StateCache(cache_size)

    def target(self, command: Command) -> tuple[Aggregate[Any], str]:
        """The aggregate that handles the command, and the stream key it addresses."""
        return self.domain.aggregate_for(command), command_key(command)  # no NUL in it

    @telemetry.traced("incident.load")
    def load(self, aggregate: Aggregate[Any], aggregate_id: str, source: StreamSource, *,
             trust_cache: bool = False,
             cached: tuple[int, BaseModel] | None = None) -> tuple[int, BaseModel]:
        """(version, state) now: the cached state (used as it is when `trust_cache`),
        else the newest snapshot, with the events `source` (the store, or a write
        transaction) holds after it folded in (the lean load, `engine.loading`).
        `cached`: what `cache.get` gave the caller just now (not asked again)."""
        base = self.cache.get(aggregate, aggregate_id) if cached is None else cached
        if trust_cache and base[0] > 0:
            return base
        if base[0] == 0:
            base = aggregate_snapshots.latest(self.store, aggregate, aggregate_id) or base
        return loading.fold_stream(self.domain, source, aggregate, aggregate_id, base)

    def decide(self, aggregate: Aggregate[Any], aggregate_id: str, version: int,
               state: BaseModel, command: Command, metadata: dict[str, Any],
               first_id: str | None = None) -> Decided | Rejection:
        """Run the command on `state` (at `version`): what to record, or the rejection.
        `state` is what the engine keeps (the cache's, a batch's): domain code gets its
        own copy of it when it could change it in place (`engine.immutable`), and an
        `execute` that changes its copy is refused; `apply` then folds that copy.
        `first_id`: the id of the first event (a new id when None)."""
        mine = own(state)
        try:
            decision = aggregate.execute(mine, command)
            if mine is not state:
                unchanged(state, mine, "state")
        except IncidentError:
            raise
        except Exception as exc:
            where = f"{aggregate.name}.execute({type(command).__name__})"
            raise DomainCodeError(where, exc) from exc
        if isinstance(decision, Rejection):
            return decision
        pending, events = pending_events(self.domain, aggregate, command, version, decision,
                                         metadata, first_id)
        try:
            after: BaseModel = aggregate.fold(events, mine)
        except Exception as exc:
            raise DomainCodeError(f"{aggregate.name}.apply", exc) from exc
        return Decided(aggregate, aggregate_id, version, pending, events, after)

    def state(self, aggregate_id: str, at_version: int | None = None) -> AggregateState | None:
        """The aggregate's state from replay (at `at_version`, or now); None if no stream."""
        return loading.state(self.domain, self.store, aggregate_id, at_version)
