"""The one decoder: a recorded event back to its domain event, as every reader sees it.

Loading an aggregate, projecting, running a saga step, rebuilding, verifying, staging
lineage and the catalogue all decode through `decode`, so a stored event means the same
thing everywhere (upcasters applied by `Domain.decode`), and a failure is always the
domain's, naming the event.

`decode_rows` is its fast form for loading an aggregate: a stream's rows (`StreamRow`)
decoded straight from their stored JSON text by the event model's own validator, with no
envelope and no intermediate dict. It gives what `decode` gives: a row it cannot take that
way (an older schema version, which the upcasters need as a dict; data already decoded;
text the JSON validator refuses) is decoded as `decode` does, and a failure there is
`decode`'s own, from the recorded event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from incident_core.domain import Domain
from incident_core.engine.immutable import copy_data
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.messages import Event
from incident_core.ports import StreamRow

__all__ = ["Recorded", "decode", "decode_rows"]

# The recorded event of a stream at a version (`decode_rows` decodes it with `decode` when
# a row fails, so the failure names the event as everywhere else).
Recorded = Callable[[int], RecordedEvent]
_loads = json.loads


def decode(domain: Domain, recorded: RecordedEvent) -> Event:
    """The domain event of a recorded one; a failure is the domain's (exit code 5). A new
    object each time, sharing nothing changeable with `recorded.data` (what the memory
    store keeps): one handler of a changeable event type gets its own (`engine.immutable`),
    and what it changes in place, the next does not see."""
    try:
        return domain.decode(recorded.event_type,
                             _private(domain, recorded.event_type, recorded.data),
                             recorded.schema_version)
    except IncidentError:
        raise
    except Exception as exc:  # bad stored data, a missing or failing upcaster
        raise DomainCodeError(f"decoding event #{recorded.position} "
                              f"({recorded.event_type})", exc) from exc


def _private(domain: Domain, event_type: str, data: Any) -> Any:
    """Stored data to validate into an event no one else has (a copy when validation could
    hand part of it through, `immutable.copy_data`)."""
    etype = domain.event_types.get(event_type)
    return data if etype is None else copy_data(etype, data)


Validator = tuple[Callable[[str], Any], int]
_UNKNOWN: Validator = (_loads, -1)  # no stored version matches: `Domain.decode` refuses it


def _validator(domain: Domain, event_type: str) -> Validator:
    """(the JSON validator of the event type's model, its current schema version)."""
    etype = domain.event_types.get(event_type)
    if etype is None:
        return _UNKNOWN
    return etype.__pydantic_validator__.validate_json, etype.schema_version


def decode_rows(domain: Domain, rows: Iterable[StreamRow], recorded: Recorded) -> list[Event]:
    """The domain events of a stream's rows, each equal to what `decode` gives for its
    recorded event; `recorded(version)` is read only for a row that fails here."""
    validators: dict[str, Validator] = {}
    out: list[Event] = []
    add = out.append
    for version, _aggregate_type, event_type, schema_version, data in rows:
        found = validators.get(event_type)
        if found is None:
            found = validators[event_type] = _validator(domain, event_type)
        try:
            if found[1] == schema_version and type(data) is str:
                add(found[0](data))
            else:  # upcasters take a dict; validation must not hand a stored one through
                add(domain.decode(event_type, _loads(data) if isinstance(data, str)
                                  else _private(domain, event_type, data), schema_version))
        except Exception:  # decoded as `decode` does, which names the event on failure
            add(decode(domain, recorded(version)))
    return out
