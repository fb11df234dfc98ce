"""Process managers (sagas): react to recorded events by dispatching follow-on commands.

A handler runs inside the engine's write transaction together with the commands it
dispatches and the manager's checkpoint, so each event is handled exactly once even if the
process dies mid-saga (the next write resumes from the checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from incident_core.envelope import RecordedEvent
from incident_core.messages import Command, Event, Rejection

__all__ = ["Accepted", "Outcome", "ParkedStep", "ProcessManager", "Rejected", "SagaContext",
           "SagaOutcome"]

E = TypeVar("E", bound=Event)


@dataclass(frozen=True, slots=True)
class ParkedStep:
    """A (process manager, event) whose handler raised: parked durably, the manager's
    checkpoint moved past it, until it is retried or skipped."""

    process_manager: str
    position: int
    event_id: str
    event_type: str
    aggregate_id: str
    correlation_id: str | None
    error: str
    traceback: str
    parked_at: str
    attempts: int
    status: str  # "parked" or "skipped"
    skip_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class SagaOutcome:
    """A command a saga step dispatched that the domain rejected: kept (in the step's
    transaction) so a conversation shows it; accepted commands show as their events."""

    process_manager: str
    cause_position: int
    cause_event_id: str
    correlation_id: str
    command_type: str
    aggregate_id: str
    reason: str
    detail: str
    recorded_at: str

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Accepted:
    """The command was executed; these events were recorded (in this order).
    `saga_failures`: saga steps of this command's cascade that raised and were parked;
    `saga_error`: why the sagas could not run after the commit (they resume on the next
    write). Neither undoes the command. `replayed`: the idempotency key was used before;
    these are the events recorded then, and nothing was recorded now."""

    events: list[RecordedEvent] = field(default_factory=list)
    ok: bool = True
    saga_failures: tuple[ParkedStep, ...] = ()
    saga_error: str | None = None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Rejected:
    """The domain refused the command; nothing was recorded."""

    reason: str
    detail: str = ""
    ok: bool = False

    @classmethod
    def of(cls, rejection: Rejection) -> Rejected:
        return cls(rejection.reason, rejection.detail)


Outcome = Accepted | Rejected


class SagaContext(Protocol):
    """What a handler may do: dispatch commands in the triggering event's transaction."""

    def dispatch(self, command: Command) -> Outcome: ...


Handler = Callable[[Any, RecordedEvent, SagaContext], None]


class ProcessManager:
    """A named saga::

        transfers = ProcessManager("transfer_saga")

        @transfers.on(TransferRequested)
        def requested(event: TransferRequested, recorded: RecordedEvent,
                      ctx: SagaContext) -> None:
            if ctx.dispatch(SendMoney(...)).ok: ...

    `final_event_types` (optional) says what "finished" means for one conversation: a
    correlation that recorded one of these types is over (the inspector lists the others
    as open conversations).
    """

    def __init__(self, name: str, *,
                 final_event_types: Iterable[type[Event] | str] = ()) -> None:
        self.name = name
        self._handlers: dict[str, Handler] = {}
        self.final_event_types: tuple[str, ...] = tuple(
            t if isinstance(t, str) else t.__name__ for t in final_event_types)

    def on(self, *event_types: type[E]) -> Callable[
            [Callable[[E, RecordedEvent, SagaContext], None]],
            Callable[[E, RecordedEvent, SagaContext], None]]:
        def register(
            fn: Callable[[E, RecordedEvent, SagaContext], None],
        ) -> Callable[[E, RecordedEvent, SagaContext], None]:
            for etype in event_types:
                self._handlers[etype.__name__] = fn
            return fn
        return register

    @property
    def event_type_names(self) -> list[str]:
        return list(self._handlers)

    def handle(self, event: Event, recorded: RecordedEvent, ctx: SagaContext) -> None:
        self._handlers[recorded.event_type](event, recorded, ctx)
