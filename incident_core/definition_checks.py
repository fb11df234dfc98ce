"""Checks run when a `Domain` is built, so a wrong definition fails at once, by name.

* **Schema evolution**: an event class whose ``schema_version`` is N needs an upcaster from
  every version 1 … N-1 (each turns data of version v into v+1); an upcaster registered for
  a version ≥ N would never run and is refused too.
* **Aggregate ids**: a command's ``aggregate_id`` must be a type with one canonical text
  form — ``str``, ``int`` or ``UUID`` (or a subclass); anything else is refused.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from incident_core.errors import DomainDefinitionError

if TYPE_CHECKING:
    from incident_core.messages import Command, Event

__all__ = ["check_aggregate_ids", "check_upcaster_version", "check_upcasters"]

ID_TYPES = (str, int, UUID)


def check_upcaster_version(event_type: type[Event], from_version: int) -> None:
    """An upcaster turns `from_version` into `from_version + 1`: it must be below the
    event's current schema_version (and at least 1)."""
    current = event_type.schema_version
    if not 1 <= from_version < current:
        raise DomainDefinitionError(
            f"upcaster for {event_type.__name__} from version {from_version} would never "
            f"run: {event_type.__name__}.schema_version is {current}, so upcasters are "
            f"needed for versions {_span(current)} only (bump schema_version first)")


def check_upcasters(event_types: Iterable[type[Event]],
                    registered: Mapping[tuple[str, int], Any]) -> None:
    """Every bumped event has its full chain; every upcaster is for a version below."""
    by_name = {etype.__name__: etype for etype in event_types}
    for (name, from_version) in registered:
        if name in by_name:
            check_upcaster_version(by_name[name], from_version)
    for name, etype in by_name.items():
        missing = [v for v in range(1, etype.schema_version)
                   if (name, v) not in registered]
        if missing:
            raise DomainDefinitionError(
                f"{name}.schema_version is {etype.schema_version} but there is no upcaster "
                f"from version {', '.join(map(str, missing))} (needed: one from each version "
                f"{_span(etype.schema_version)}; see Aggregate.upcasts)")


def check_aggregate_ids(command_types: Iterable[type[Command]]) -> None:
    for ctype in command_types:
        annotation = ctype.model_fields["aggregate_id"].annotation
        if not _has_canonical_text(annotation):
            raise DomainDefinitionError(
                f"{ctype.__name__}.aggregate_id is declared as {_type_name(annotation)}; an "
                "aggregate id must be str, int or UUID (a type with one canonical text form)")


def _has_canonical_text(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return False  # an optional or mixed id has no single text form
    return (isinstance(annotation, type) and issubclass(annotation, ID_TYPES)
            and not issubclass(annotation, bool))


def _type_name(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else repr(annotation)


def _span(schema_version: int) -> str:
    if schema_version <= 1:
        return "(none)"
    return "1" if schema_version == 2 else f"1 to {schema_version - 1}"
