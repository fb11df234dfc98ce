"""What the command path returns, and its errors (shared by the application and the unit of
work)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.messages import Event
from incident_core.process import Accepted, ParkedStep, Rejected

__all__ = [
    "AggregateState",
    "Cascade",
    "Conflicted",
    "DispatchResult",
    "DomainCodeError",
    "Preview",
    "SagaRejection",
    "WrongAggregateType",
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


@dataclass(frozen=True, slots=True)
class Preview:
    """What a command would do now: the events it would record and the resulting state."""

    before: AggregateState
    events: list[Event]
    after: AggregateState | None
    rejection: Rejected | None
    # what the process managers would then record (None: the domain has none)
    cascade: Cascade | None = None

    @property
    def ok(self) -> bool:
        return self.rejection is None


def with_article(noun: str) -> str:
    """`an Account`, `a Transfer` (by the first letter: good enough for type names)."""
    return f"{'an' if noun[:1].lower() in 'aeiou' and noun else 'a'} {noun}"


class WrongAggregateType(IncidentError):
    def __init__(self, aggregate_id: str, found: str, wanted: str) -> None:
        super().__init__(f"{aggregate_id!r} is {with_article(found)}, "
                         f"not {with_article(wanted)}")
