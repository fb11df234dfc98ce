"""The pure building blocks: commands, events, rejections, aggregates and the domain registry.

Nothing here does I/O. An aggregate holds business logic, never state: `execute(state,
command)` decides events or a rejection, `apply(state, event)` is a pure reducer. The
messages themselves (`Command`, `Event`, `Rejection`, `State`) live in
`incident_core.messages` and are re-exported here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from incident_core.definition_checks import (
    check_aggregate_ids,
    check_upcaster_version,
    check_upcasters,
)
from incident_core.errors import (
    DomainDefinitionError,
    InvalidCommand,
    NewerEventSchemaError,
    UnknownCommand,
    UnknownEventType,
)
from incident_core.messages import Command, Decision, Event, Rejection, State
from incident_core.values import encode_checked

if TYPE_CHECKING:
    import random

    from incident_core.process import ProcessManager
    from incident_core.projections.definition import Projection

__all__ = [
    "Aggregate",
    "Command",
    "Decision",
    "DemoScenario",
    "Domain",
    "Event",
    "Rejection",
    "State",
]


S = TypeVar("S", bound=BaseModel)
C = TypeVar("C", bound=Command)
E = TypeVar("E", bound=Event)


class Aggregate(Generic[S]):
    """Business logic for one aggregate type, registered declaratively::

        account = Aggregate("Account", AccountState())  # snapshot_every=100: snapshots

        @account.executes(DepositMoney)
        def deposit(state: AccountState, cmd: DepositMoney) -> Decision: ...

        @account.applies(MoneyDeposited)
        def deposited(state: AccountState, event: MoneyDeposited) -> AccountState: ...

    What the engine guarantees when a state or an event holds something that can change in
    place (a list, dict or set, a model that is not frozen, an `Any`; decided per type by
    `incident_core.engine.immutable`, free for types that cannot): `execute` gets its own
    copy of the state and must not change it (one that does is refused, a `DomainCodeError`
    naming the fields); `apply` folds a private copy, so it may change the state it gets
    (never the cached one, a batch's, a snapshot's or `initial_state`); each projection
    and saga handler gets its own copy of the event. Live states and rows equal a replay.
    """

    def __init__(self, name: str, initial_state: S, *, snapshot_every: int | None = None,
                 state_version: int = 1) -> None:
        if snapshot_every is not None and snapshot_every < 1:
            raise ValueError(f"aggregate {name}: snapshot_every must be a positive number "
                             f"of events or None, not {snapshot_every!r}")
        self.name = name
        self.initial_state = initial_state
        # Snapshots (incident_core.engine.aggregate_snapshots): one every `snapshot_every` events,
        # off by default; `state_version` is bumped by the domain when `apply` changes
        # meaning without the state model's schema changing (old snapshots are then unused).
        self.snapshot_every = snapshot_every
        self.state_version = state_version
        self._executors: dict[type[Command], Callable[[S, Any], Decision]] = {}
        self._appliers: dict[type[Event], Callable[[S, Any], S]] = {}
        self.upcasters: dict[tuple[str, int], Upcaster] = {}

    def executes(self, command_type: type[C]) -> Callable[
            [Callable[[S, C], Decision]], Callable[[S, C], Decision]]:
        def register(fn: Callable[[S, C], Decision]) -> Callable[[S, C], Decision]:
            self._executors[command_type] = fn
            return fn
        return register

    def applies(self, event_type: type[E]) -> Callable[
            [Callable[[S, E], S]], Callable[[S, E], S]]:
        def register(fn: Callable[[S, E], S]) -> Callable[[S, E], S]:
            self._appliers[event_type] = fn
            return fn
        return register

    def upcasts(self, event_type: type[Event], from_version: int) -> Callable[
            [Upcaster], Upcaster]:
        """Register `fn(data) -> data` turning stored data of `event_type` at `from_version`
        into `from_version + 1` (see the README's "Schema evolution")."""
        check_upcaster_version(event_type, from_version)

        def register(fn: Upcaster) -> Upcaster:
            self.upcasters[(event_type.__name__, from_version)] = fn
            return fn
        return register

    @property
    def command_types(self) -> list[type[Command]]:
        return list(self._executors)

    @property
    def event_types(self) -> list[type[Event]]:
        return list(self._appliers)

    def execute(self, state: S, command: Command) -> list[Event] | Rejection:
        """Decide: the events the command produces on `state`, or a rejection."""
        decision = self._executors[type(command)](state, command)
        if isinstance(decision, Rejection):
            return decision
        if isinstance(decision, Event):
            return [decision]
        return list(decision)

    def apply(self, state: S, event: Event) -> S:
        return self._appliers[type(event)](state, event)

    def fold(self, events: Iterable[Event], state: S | None = None) -> S:
        """`state` (a copy of the initial state when None) with `events` applied in order;
        `apply` may change in place the state it is given (see the class)."""
        current = copy.deepcopy(self.initial_state) if state is None else state
        appliers = self._appliers
        for event in events:
            current = appliers[type(event)](current, event)
        return current


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# A domain's demo: given a seeded random source, how many entities to create and how many
# steps to run after them, the commands of each step (one transaction per batch of steps).
DemoScenario = Callable[["random.Random", int, int], Iterator[list[Command]]]


class Domain:
    """Everything the engine needs to know about one application's model."""

    def __init__(
        self,
        name: str,
        *,
        aggregates: Sequence[Aggregate[Any]],
        projections: Sequence[Projection[Any]] = (),
        process_managers: Sequence[ProcessManager] = (),
        public_commands: Sequence[type[Command]] | None = None,
        rejection_messages: Mapping[str, str] | None = None,
        demo: DemoScenario | None = None,
    ) -> None:
        self.name = name
        # the commands `incident demo` and the inspector's first run seed a store with
        self.demo = demo
        # reason code → the words a user reads (the inspector shows them; the code stays)
        self.rejection_messages: dict[str, str] = dict(rejection_messages or {})
        self.aggregates = {a.name: a for a in aggregates}
        self.projections = {p.name: p for p in projections}
        self.process_managers = {pm.name: pm for pm in process_managers}
        self._aggregate_of: dict[type[Command], Aggregate[Any]] = {}
        self.command_types: dict[str, type[Command]] = {}
        self.event_types: dict[str, type[Event]] = {}
        self._aggregate_of_event: dict[str, Aggregate[Any]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for aggregate in aggregates:
            for ctype in aggregate.command_types:
                self._aggregate_of[ctype] = aggregate
                self.command_types[ctype.__name__] = ctype
            for etype in aggregate.event_types:
                self.event_types[etype.__name__] = etype
                self._aggregate_of_event[etype.__name__] = aggregate
        names = [c.__name__ for c in (public_commands or self.command_types.values())]
        self.public_command_names = names
        self._check_definitions(aggregates)

    def _check_definitions(self, aggregates: Sequence[Aggregate[Any]]) -> None:
        """Refuse an inconsistent definition now, naming the type (see definition_checks)."""
        for aggregate in aggregates:
            for key, fn in aggregate.upcasters.items():
                if key in self._upcasters:
                    raise DomainDefinitionError(f"two upcasters for {key[0]} from version "
                                                f"{key[1]}")
                self._upcasters[key] = fn
        check_upcasters(self.event_types.values(), self._upcasters)
        check_aggregate_ids(self.command_types.values())

    @property
    def upcasters(self) -> Mapping[tuple[str, int], Upcaster]:
        """Every registered upcaster by (event type, from version) (read-only view)."""
        return MappingProxyType(self._upcasters)

    def aggregate_for(self, command: Command | type[Command]) -> Aggregate[Any]:
        ctype = command if isinstance(command, type) else type(command)
        return self._aggregate_of[ctype]

    def aggregate_named(self, name: str) -> Aggregate[Any] | None:
        return self.aggregates.get(name)

    def command_type(self, name: str) -> type[Command]:
        try:
            return self.command_types[name]
        except KeyError:
            raise UnknownCommand(name, sorted(self.command_types)) from None

    def parse_command(self, name: str, data: dict[str, Any] | str | bytes) -> Command:
        """Validate raw input into a command; raise InvalidCommand with field errors."""
        ctype = self.command_type(name)
        try:
            if isinstance(data, str | bytes):
                command = ctype.model_validate_json(data)
            else:
                command = ctype.model_validate(data)
        except ValidationError as exc:
            details = [
                {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
                for err in exc.errors(include_url=False)
            ]
            raise InvalidCommand(name, details) from None
        encode_checked(command, name, ints=False)  # its events' integers are checked
        return command

    def upcaster(self, event_type: type[Event], from_version: int) -> Callable[
            [Upcaster], Upcaster]:
        """Register (or replace) a function turning data of `from_version` into
        `from_version + 1`. Prefer `Aggregate.upcasts`: a bumped event without its upcasters
        is refused when the Domain is built, before this could run."""
        check_upcaster_version(event_type, from_version)

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type.__name__, from_version)] = fn
            return fn
        return register

    def decode(self, event_type: str, data: dict[str, Any], schema_version: int = 1) -> Event:
        """Turn stored data into the domain event, upcasting older schema versions."""
        try:
            etype = self.event_types[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None
        if schema_version > etype.schema_version:
            raise NewerEventSchemaError(event_type, schema_version, etype.schema_version)
        if schema_version < etype.schema_version:
            data = copy_json(data)  # an upcaster may change it in place: not the stored
        while schema_version < etype.schema_version:
            data = self._upcasters[(event_type, schema_version)](data)
            schema_version += 1
        # the validator itself, as every fast path runs it (rebuild pages, new events): an
        # override of `model_validate` would otherwise make those differ from this one
        event: Event = etype.__pydantic_validator__.validate_python(data)
        return event

    def knows_event(self, event_type: str) -> bool:
        return event_type in self.event_types


def copy_json(value: Any) -> Any:
    """A copy of stored (JSON) data sharing no dict or list with it: what an upcaster, or a
    validation that hands `Any` through, may change, without changing what the store keeps
    (about three times faster than `copy.deepcopy` on such data; anything else that is not
    a string, number, bool or None is deep-copied)."""
    kind = type(value)
    if kind is dict:
        return {key: copy_json(item) for key, item in value.items()}
    if kind is list:
        return [copy_json(item) for item in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


_ATOMS = frozenset({str, int, float, bool, type(None)})
