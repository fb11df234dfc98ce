"""The messages of a domain: commands, events, rejections and aggregate states.

Pure pydantic models, no I/O and no engine. `incident_core.domain` (aggregates and the
domain registry), `incident_core.process` (process managers) and
`incident_core.projections` (read models) all build on these; `incident_core.domain`
re-exports them, so `from incident_core.domain import Command` keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Command", "Decision", "Event", "Rejection", "State"]


class Command(BaseModel):
    """A request to change one aggregate. Frozen, strict about unknown fields and about
    values the store could not give back (non-finite floats). `aggregate_id` may be
    redeclared as `int` or `UUID`; the engine keys streams by its `str()`."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False,
                              ser_json_inf_nan="constants")

    aggregate_id: str = Field(min_length=1, max_length=200,
                              description="The aggregate this command is addressed to")


class Event(BaseModel):
    """Something that happened. Frozen; the class name is the event type. Non-finite floats
    are refused (JSON has no form for them the store could give back)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False,
                              ser_json_inf_nan="constants")

    schema_version: ClassVar[int] = 1


class State(BaseModel):
    """Base for aggregate states: frozen, JSON-serialisable."""

    model_config = ConfigDict(frozen=True)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A command refused by the domain, with a snake_case reason code."""

    reason: str
    detail: str = ""


Decision = Event | Sequence[Event] | Rejection
