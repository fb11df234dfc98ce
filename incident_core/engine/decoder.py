"""The one decoder: a recorded event back to its domain event, as every reader sees it.

Loading an aggregate, projecting, running a saga step, rebuilding, verifying, staging
lineage and the catalogue all decode through `decode`, so a stored event means the same
thing everywhere (upcasters applied by `Domain.decode`), and a failure is always the
domain's, naming the event.

`decode_rows` is its fast form for loading an aggregate: a stream's rows (`StreamRow`)
decoded straight from their stored JSON text by the event model's own validator, with no
envelope and no intermediate dict. It gives what `decode` gives: a row it cannot take that
way (an older schema version, which the upcasters need as a dict; data already decoded;
text the JSON validator refuses; a type `from_text` does not vouch for) is decoded as
`decode` does, and a failure there is `decode`'s own, from the recorded event.

`from_text` says which event types may be decoded from their text that way: those whose
validation from JSON text gives what validating `json.loads(text)` gives, decided once per
type from its pydantic core schema (`json_exact`).
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

__all__ = ["Recorded", "decode", "decode_rows", "from_text", "json_exact"]

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
    """(the JSON validator of the event type's model, or `json.loads` then its Python
    validator where the two could differ (`json_exact`), its current schema version)."""
    etype = domain.event_types.get(event_type)
    if etype is None:
        return _UNKNOWN
    parse = from_text(domain, event_type)
    if parse is not None:
        return parse, etype.schema_version
    validate = etype.__pydantic_validator__.validate_python
    return (lambda text: validate(_loads(text))), etype.schema_version


# Longer texts are decoded from `json.loads`: Python refuses an integer of more digits than
# its limit (4300 by default); pydantic's JSON parser would take it.
LONGEST = 4000
# The core schema types whose validation from JSON values is the validation of the same
# values as Python objects (what `json.loads` gives). Not there, so never decoded from
# text: function validators (they may ask `info.mode`), bytes (`val_json_bytes`),
# decimal (JSON's 0.0 gives Decimal('0'), Python's float 0.0 Decimal('0.0')), json-or-python
# and custom types, anything strict (JSON text is laxer there: a string for
# a datetime, a list for a tuple), a model with its own `__init__`.
_JSON_EXACT = frozenset({
    "any", "none", "bool", "int", "float", "str", "date", "time", "datetime",
    "timedelta", "uuid", "literal", "enum", "list", "tuple", "set", "frozenset", "dict",
    "nullable", "default", "union", "tagged-union", "definitions", "definition-ref",
    "model", "model-fields", "model-field", "typed-dict", "typed-dict-field",
    "dataclass", "dataclass-args", "dataclass-field", "custom-error",
})
_exact: dict[type, bool] = {}


def json_exact(model: type[Any]) -> bool:
    """Whether `validate_json(text)` of this event model gives what
    `validate_python(json.loads(text))` gives for any text both accept (and refuses only
    what the latter refuses, or what `json.loads` takes and it does not: lone surrogates);
    decided once per type from its core schema (`_JSON_EXACT`)."""
    found = _exact.get(model)
    if found is None:
        found = _exact[model] = _exact_schema(model.__pydantic_core_schema__)
    return found


def _exact_schema(schema: Any) -> bool:
    if isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, str) and kind not in _JSON_EXACT:
            return False
        if schema.get("strict") is True or schema.get("custom_init") is True \
                or schema.get("val_json_bytes") not in (None, "utf8"):
            return False
        return all(_exact_schema(value) for key, value in schema.items()
                   if key not in ("cls", "metadata", "ref", "schema_ref", "serialization"))
    if isinstance(schema, list | tuple):
        return all(_exact_schema(value) for value in schema)
    return True


def from_text(domain: Domain, event_type: str) -> Callable[[str], Event] | None:
    """The JSON validator of an event type's model, when it decodes stored text as
    `decode` decodes the text's `json.loads` (at the type's current schema version, text of
    at most `LONGEST` characters); else None."""
    etype = domain.event_types.get(event_type)
    if etype is None or not json_exact(etype):
        return None
    return etype.__pydantic_validator__.validate_json


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
            if found[1] == schema_version and type(data) is str and len(data) <= LONGEST:
                add(found[0](data))
            else:  # upcasters take a dict; validation must not hand a stored one through
                add(domain.decode(event_type, _loads(data) if isinstance(data, str)
                                  else _private(domain, event_type, data), schema_version))
        except Exception:  # decoded as `decode` does, which names the event on failure
            add(decode(domain, recorded(version)))
    return out
