"""Process-manager instances: each manager's checkpoint and lag, and its open conversations.

A conversation is a correlation id the manager took part in. When the manager declares
`final_event_types`, a conversation is *open* until one of those types is recorded under its
correlation id; without them the inspector cannot know, and lists the recent conversations
with their last step instead.

Only indexed queries: the manager's most recent handled events (event type index, newest
first, `window` of them), the final events recorded since the oldest of those (type index),
and one correlation lookup per listed conversation. A conversation whose events the manager
last handled before that window is not listed (the report says how far back it looked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from incident_core.envelope import RecordedEvent
from incident_core.operations.trace import parked_steps_of
from incident_core.ports import EventFilter

if TYPE_CHECKING:
    from incident_core.engine.application import Application
    from incident_core.ports import EventStore
    from incident_core.process import ProcessManager

__all__ = ["ConversationInfo", "ManagerStatus", "manager_status", "managers_status"]

WINDOW = 1000        # handled events looked at, newest first
MAX_LISTED = 100     # conversations listed per manager
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """One conversation of a manager: when it started and where it stands now."""

    correlation_id: str
    aggregate_id: str        # the aggregate of the first event the manager handled in it
    started_at: str          # ISO-8601 UTC text
    age_seconds: float
    last_event_type: str
    last_event_id: str
    last_position: int
    last_recorded_at: str

    def to_json(self) -> dict[str, Any]:
        return {"correlation_id": self.correlation_id, "aggregate_id": self.aggregate_id,
                "started_at": self.started_at, "age_seconds": round(self.age_seconds, 3),
                "last_event_type": self.last_event_type, "last_event_id": self.last_event_id,
                "last_position": self.last_position,
                "last_recorded_at": self.last_recorded_at}


@dataclass(frozen=True, slots=True)
class ManagerStatus:
    """`open_only`: True when the manager declares final event types (the conversations
    are the open ones); False when they are simply the most recent ones."""

    name: str
    checkpoint: int
    head: int
    final_event_types: tuple[str, ...]
    conversations: tuple[ConversationInfo, ...]
    looked_back_to: int      # the oldest position examined (0: the whole log)
    parked: tuple[Any, ...] = ()

    @property
    def lag(self) -> int:
        return max(0, self.head - self.checkpoint)

    @property
    def open_only(self) -> bool:
        return bool(self.final_event_types)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "checkpoint": self.checkpoint, "head": self.head,
                "lag": self.lag, "final_event_types": list(self.final_event_types),
                "open_only": self.open_only, "looked_back_to": self.looked_back_to,
                "conversations": [c.to_json() for c in self.conversations],
                "parked": [p.to_json() for p in self.parked]}


def managers_status(app: Application, *, now: datetime | None = None,
                    window: int = WINDOW) -> list[ManagerStatus]:
    """Every process manager of the application's domain, in declaration order."""
    store = app.store
    head, checkpoints = store.head(), store.checkpoints()
    parked = parked_steps_of(app, include_skipped=False)
    return [manager_status(store, pm, head=head, checkpoint=checkpoints.get(pm.name, 0),
                           now=now, window=window,
                           parked=[p for p in parked if p.process_manager == pm.name])
            for pm in app.domain.process_managers.values()]


def manager_status(store: EventStore, pm: ProcessManager, *, head: int, checkpoint: int,
                   now: datetime | None = None, window: int = WINDOW,
                   parked: list[Any] | None = None) -> ManagerStatus:
    handled = store.read_events(filter=EventFilter(event_types=tuple(pm.event_type_names)),
                                limit=window, descending=True) if pm.event_type_names else []
    starts = _first_per_correlation(handled)
    oldest = min((e.position for e in starts.values()), default=head + 1)
    if pm.final_event_types:
        finished = _finished(store, pm.final_event_types, oldest - 1)
        starts = {c: e for c, e in starts.items() if c not in finished}
    newest = sorted(starts.items(), key=lambda item: -item[1].position)[:MAX_LISTED]
    moment = now or datetime.now(UTC)
    listed = tuple(_info(store, correlation, first, moment) for correlation, first in newest)
    looked_back_to = 0 if len(handled) < window else oldest
    return ManagerStatus(pm.name, checkpoint, head, pm.final_event_types, listed,
                         looked_back_to, tuple(parked or ()))


def _first_per_correlation(events: list[RecordedEvent]) -> dict[str, RecordedEvent]:
    first: dict[str, RecordedEvent] = {}
    for event in events:  # newest first: the last one seen is the earliest
        first[event.correlation_id or event.event_id] = event
    return first


def _finished(store: EventStore, final_types: tuple[str, ...], after: int) -> set[str]:
    """Correlation ids with a final event after `after` (paged on the type index)."""
    done: set[str] = set()
    flt = EventFilter(event_types=final_types)
    while True:
        page = store.read_events(after_position=after, limit=_PAGE, filter=flt)
        done.update(e.correlation_id or e.event_id for e in page)
        if len(page) < _PAGE:
            return done
        after = page[-1].position


def _info(store: EventStore, correlation: str, first: RecordedEvent,
          now: datetime) -> ConversationInfo:
    events = store.events_with_metadata("correlation_id", correlation, 10_000)
    last = events[-1] if events else first
    started = events[0] if events else first
    return ConversationInfo(correlation, first.aggregate_id, started.recorded_at_text,
                            (now - started.recorded_at).total_seconds(), last.event_type,
                            last.event_id, last.position, last.recorded_at_text)
