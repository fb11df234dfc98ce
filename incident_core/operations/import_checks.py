"""The checks of an import line, in one pass: parsed once, its envelope checked for shape,
its stream and id checked against the lines before it, its event type against the domain,
and its data decoded to the typed event (which the projections then use as is).

Most lines are well-formed exports: the parse itself proves that every number fits (no
integer beyond 64 bits, no non-finite float), and a handful of type tests the envelope's
shape. A line they do not prove goes through the full checks, which name the field that
is wrong.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from incident_core.domain import Domain, Event
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import format_time
from incident_core.errors import IncidentError
from incident_core.values import find_unrepresentable, format_path

__all__ = ["ImportFileError", "LineChecker"]

LARGEST = 2**63 - 1
_REQUIRED: dict[str, type] = {
    "event_id": str, "aggregate_id": str, "aggregate_type": str, "event_type": str,
    "version": int, "recorded_at": str, "data": dict,
}
_OPTIONAL: dict[str, type] = {
    "position": int, "schema_version": int, "metadata": dict,
}
_FIELDS = _REQUIRED | _OPTIONAL
_FIELD_TYPES = tuple(_FIELDS.items())
_REQUIRED_KEYS = frozenset(_REQUIRED)
_KEYS = frozenset(_FIELDS)
# The store's own time format (what an export writes): kept as it is, no parse/format.
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


class _Suspect(Exception):
    """A number the store may not give back: the line goes through the full checks."""


def _int(text: str) -> int:
    value = int(text)
    if len(text) > 18 and not -LARGEST - 1 <= value <= LARGEST:
        raise _Suspect
    return value


def _float(text: str) -> float:
    value = float(text)
    if value - value != 0.0:  # inf or nan
        raise _Suspect
    return value


def _constant(text: str) -> Any:
    raise _Suspect


# Parsing proves every number fits (64-bit integers, finite floats) in the same pass.
_strict_loads = json.JSONDecoder(parse_int=_int, parse_float=_float,
                                 parse_constant=_constant).decode


class ImportFileError(IncidentError):
    """A line of an import file is not an envelope this store can take (nothing written)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


class LineChecker:
    """Checks the lines of one file in order; `check` returns (envelope, typed event)."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.event_ids: dict[str, int] = {}  # event id -> line number
        self.streams: dict[str, tuple[str, int]] = {}  # aggregate id -> (type, line)
        self._versions: dict[str, int] = {}
        self._kinds: dict[str, frozenset[str] | None] = {}

    def check(self, number: int, line: str) -> tuple[dict[str, Any], Event]:
        try:
            try:
                raw = _strict_loads(line)
                fast = _fast_envelope(raw)
            except _Suspect:
                raw, fast = json.loads(line), False
        except json.JSONDecodeError as exc:
            raise ImportFileError(number, f"not JSON ({exc.msg} at column {exc.colno})") from None
        envelope = raw if fast else _envelope(number, raw)
        self._check_identity(number, envelope)
        return envelope, self._check_domain(number, envelope)

    def _check_identity(self, number: int, envelope: dict[str, Any]) -> None:
        event_id, aggregate_id = envelope["event_id"], envelope["aggregate_id"]
        first = self.event_ids.setdefault(event_id, number)
        if first != number:
            raise ImportFileError(number, f"event id {event_id} already appears on line {first}")
        version = envelope["version"]
        known = self.streams.get(aggregate_id)
        if known is None:
            self.streams[aggregate_id] = (envelope["aggregate_type"], number)
        elif known[0] != envelope["aggregate_type"]:
            raise ImportFileError(number, f"stream {aggregate_id} is a {known[0]} (line "
                                          f"{known[1]}), not a {envelope['aggregate_type']}")
        elif version != self._versions[aggregate_id] + 1:
            raise ImportFileError(number, f"stream {aggregate_id} jumps from version "
                                          f"{self._versions[aggregate_id]} to {version}")
        self._versions[aggregate_id] = version

    def _kinds_of(self, aggregate_type: str) -> frozenset[str] | None:
        if aggregate_type not in self._kinds:
            aggregate = self.domain.aggregate_named(aggregate_type)
            self._kinds[aggregate_type] = None if aggregate is None else frozenset(
                e.__name__ for e in aggregate.event_types)
        return self._kinds[aggregate_type]

    def _check_domain(self, number: int, envelope: dict[str, Any]) -> Event:
        aggregate_type, event_type = envelope["aggregate_type"], envelope["event_type"]
        kinds = self._kinds_of(aggregate_type)
        if kinds is None:
            raise ImportFileError(number, f"aggregate type {aggregate_type!r} is not part of "
                                          f"the domain {self.domain.name!r}")
        if event_type not in kinds:
            raise ImportFileError(number, f"{event_type!r} is not an event of "
                                          f"{aggregate_type}")
        newest = self.domain.event_types[event_type].schema_version
        if envelope["schema_version"] > newest:
            raise ImportFileError(number, f"{event_type} schema version "
                                          f"{envelope['schema_version']} is newer than this "
                                          f"domain's ({newest}); upgrade the domain first")
        try:
            return self.domain.decode(event_type, envelope["data"], envelope["schema_version"])
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
                                for e in exc.errors(include_url=False))
            raise ImportFileError(number, f"{event_type} data does not decode: "
                                          f"{reasons}") from None
        except IncidentError:
            raise
        except Exception as exc:
            raise DomainCodeError(f"decoding {event_type} (line {number})", exc) from exc


def _fast_envelope(raw: Any) -> bool:
    """True if `raw` is a well-formed envelope in the store's own form (as an export
    writes it); then it is normalised in place. False: `_envelope` must look closer."""
    if type(raw) is not dict or not _REQUIRED_KEYS <= raw.keys() <= _KEYS:
        return False
    for name, kind in _FIELD_TYPES:
        value = raw.get(name, kind)
        if type(value) is not kind and value is not kind:
            return False
    if not (raw["event_id"] and raw["aggregate_id"] and raw["aggregate_type"]
            and raw["event_type"] and raw["version"] >= 1 and raw.get("schema_version", 1) >= 1
            and _CANONICAL_TIME.fullmatch(raw["recorded_at"])):
        return False
    metadata = raw.get("metadata")
    if metadata is None:
        raw["metadata"] = {}
    else:
        for name in ("correlation_id", "causation_id"):
            value = metadata.get(name)
            if value is not None and type(value) is not str:
                return False
    raw.pop("position", None)
    raw.setdefault("schema_version", 1)
    return True


def _envelope(number: int, raw: Any) -> dict[str, Any]:
    """The envelope of one line, checked for shape; `recorded_at` in the store's format."""
    if not isinstance(raw, dict):
        raise ImportFileError(number, f"expected a JSON object, found {type(raw).__name__}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ImportFileError(number, f"unexpected field(s) {', '.join(unknown)}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise ImportFileError(number, f"missing field(s) {', '.join(missing)}")
    for name, kind in _FIELDS.items():
        value = raw.get(name)
        # JSON gives exact types, so `type(...) is` also refuses true/false as an integer
        if type(value) is not kind and name in raw:
            raise ImportFileError(number, f"{name} must be {_describe(kind)}, "
                                          f"not {json.dumps(value)[:40]}")
    for name in ("event_id", "aggregate_id", "aggregate_type", "event_type"):
        if not raw[name]:
            raise ImportFileError(number, f"{name} is empty")
    envelope = dict(raw)
    envelope.pop("position", None)
    envelope.setdefault("metadata", {})
    envelope.setdefault("schema_version", 1)
    if envelope["version"] < 1 or envelope["schema_version"] < 1:
        raise ImportFileError(number, "version and schema_version start at 1")
    for name in ("correlation_id", "causation_id"):
        value = envelope["metadata"].get(name)
        if value is not None and type(value) is not str:
            raise ImportFileError(number, f"metadata.{name} must be a string or null, not "
                                          f"{json.dumps(value)[:40]}")
    _check_numbers(number, envelope)
    found = find_unrepresentable(envelope["data"])
    if found is not None:
        raise ImportFileError(number, f"data.{format_path(found[0])}: {found[1]}")
    envelope["recorded_at"] = _time(number, raw["recorded_at"])
    return envelope


def _check_numbers(number: int, value: Any, where: str = "") -> None:
    """Every integer must fit a signed 64-bit column (what every store can hold)."""
    if type(value) is int:
        if not -LARGEST - 1 <= value <= LARGEST:
            raise ImportFileError(number, f"{where.lstrip('.') or 'a number'} is out of range "
                                          f"({str(value)[:30]} does not fit 64 bits)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(number, item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(number, item, f"{where}[{index}]")


def _time(number: int, text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ImportFileError(number, f"recorded_at {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ImportFileError(number, f"recorded_at {text!r} has no time zone")
    if _CANONICAL_TIME.fullmatch(text):  # already the store's form (as exported)
        return text
    try:
        return format_time(moment)
    except OverflowError:
        raise ImportFileError(number, f"recorded_at {text!r} is out of range in UTC") from None


def _describe(kind: type) -> str:
    return {str: "a string", int: "an integer", dict: "an object"}.get(kind, kind.__name__)
