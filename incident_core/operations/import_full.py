"""The full checks of an import line (`import_checks`' lines that its fast path does not
prove): parsed by `json.loads` (every number proven to fit as it parses, else parsed
again as it is), then each field checked in turn, so the error names the line and the
field that is wrong; the time put in the store's form.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from incident_core.envelope import format_time
from incident_core.errors import IncidentError
from incident_core.values import find_unrepresentable, format_path

__all__ = ["CANONICAL_TIME", "LARGEST", "ImportFileError", "full_envelope"]

LARGEST = 2**63 - 1
_REQUIRED: dict[str, type] = {
    "event_id": str, "aggregate_id": str, "aggregate_type": str, "event_type": str,
    "version": int, "recorded_at": str, "data": dict,
}
_OPTIONAL: dict[str, type] = {
    "position": int, "schema_version": int, "metadata": dict,
}
_FIELDS = _REQUIRED | _OPTIONAL
_KEYS = frozenset(_FIELDS)
# The store's own time format (what an export writes): kept as it is, no parse/format.
CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


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


def full_envelope(number: int, line: str) -> dict[str, Any]:
    """The envelope of a line, through the full checks (a line the fast path did not
    prove): parsed again by `json.loads`; ImportFileError naming what is wrong."""
    try:
        try:
            raw = _strict_loads(line)
        except _Suspect:
            raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ImportFileError(number, f"not JSON ({exc.msg} at column {exc.colno})") from None
    return _envelope(number, raw)


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
    if CANONICAL_TIME.fullmatch(text):  # already the store's form (as exported)
        return text
    try:
        return format_time(moment)
    except OverflowError:
        raise ImportFileError(number, f"recorded_at {text!r} is out of range in UTC") from None


def _describe(kind: type) -> str:
    return {str: "a string", int: "an integer", dict: "an object"}.get(kind, kind.__name__)
