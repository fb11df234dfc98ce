"""What the command path returns, and its errors (shared by the application and the unit of
work)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from incident_core.domain import Event
from incident_core.errors import IncidentError
from incident_core.process import Accepted, Rejected

if TYPE_CHECKING:
    from incident_core.engine.cascade import Cascade

__all__ = [
    "AggregateState",
    "Conflicted",
    "DispatchResult",
    "DomainCodeError",
    "Preview",
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
