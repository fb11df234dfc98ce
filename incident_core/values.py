"""What the store can give back: values are checked where commands and events enter.

A float that is not finite is written as JSON `null` (or not at all) and an integer beyond
signed 64 bits cannot go into an SQL INTEGER column, so neither could ever be replayed to an
equal value. `encode_checked` serialises a model once, checks the encoded JSON in the same
pass that decodes it, and names the offending field (`legs[1].amount`).
"""

from __future__ import annotations

import json
import math
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json as _to_json

from incident_core.errors import InvalidCommand, format_loc

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "NUL",
    "NUL_PROBLEM",
    "ValueRefused",
    "aggregate_key",
    "command_key",
    "encode_checked",
    "encode_data",
    "find_unrepresentable",
    "format_path",
    "kept_text",
    "nul_in_columns",
    "refuse_nul",
]

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
NUL = "\x00"  # PostgreSQL keeps no NUL character in a text column (SQLite would)
NUL_PROBLEM = "holds a NUL character (\\x00), which a text column cannot keep on every store"
Path = tuple[str | int, ...]


class ValueRefused(InvalidCommand):
    """A command or the event it decided holds a value the store cannot give back (JSON
    error type `unrepresentable_value`), or made a projection row the fold refuses
    (`error_type` as the refusal says: `changed_in_place` for a row changed in place)."""

    def __init__(self, command_type: str, path: Path, problem: str, *,
                 error_type: str = "unrepresentable_value") -> None:
        super().__init__(command_type, [{"loc": list(path), "msg": problem,
                                         "type": error_type}])
        self.path = path
        self.problem = problem
        self.error_type = error_type


def format_path(path: Path) -> str:
    """`("legs", 1, "amount")` → `legs[1].amount`."""
    return format_loc(path)


_FINE = (str, bool, type(None))
_FLOAT_PROBLEM = "{} is not a finite number (the store cannot keep it)"
_INT_PROBLEM = "integer outside the signed 64-bit range the store can hold"


def _problem(value: Any, ints: bool) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return _FLOAT_PROBLEM.format(value)
    if (ints and isinstance(value, int) and not isinstance(value, bool)
            and not INT_MIN <= value <= INT_MAX):
        return _INT_PROBLEM
    return None


def _children(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.__dict__.items()
    if isinstance(value, dict):
        return ((str(k), v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return enumerate(value)
    return ()


def find_unrepresentable(value: Any, path: Path = (), *,
                         ints: bool = True) -> tuple[Path, str] | None:
    """The first value (depth first) the store cannot give back, with its path. `ints`:
    integers beyond 64 bits count too (they do where the value is stored)."""
    if type(value) in _FINE:
        return None
    problem = _problem(value, ints)
    if problem is not None:
        return path, problem
    for key, child in _children(value):
        if type(child) in _FINE:
            continue
        found = find_unrepresentable(child, (*path, key), ints=ints)
        if found is not None:
            return found
    return None


class _Refused(Exception):
    pass


def _refuse_constant(_text: str) -> float:
    raise _Refused


def _checked_int(text: str) -> int:
    value = int(text)
    if len(text) > 18 and not INT_MIN <= value <= INT_MAX:
        raise _Refused
    return value


_checked_loads = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_checked_int).decode
_finite_loads = json.JSONDecoder(parse_constant=_refuse_constant).decode
_WALK_NEEDED: dict[type[BaseModel], bool] = {}


def _has_own_models(annotation: Any, seen: set[Any]) -> bool:
    """Whether values of this annotation can hold a model that serialises by its own config
    (a non-finite float there becomes `null` in the JSON, so the JSON check cannot see it)."""
    if annotation in seen:
        return False
    seen.add(annotation)
    if annotation is Any or annotation is object:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.model_config.get("ser_json_inf_nan") != "constants":
            return True
        return any(_has_own_models(f.annotation, seen)
                   for f in annotation.model_fields.values())
    return any(_has_own_models(arg, seen) for arg in typing.get_args(annotation))


def _walk_needed(model_type: type[BaseModel]) -> bool:
    found = _WALK_NEEDED.get(model_type)
    if found is None:
        found = _WALK_NEEDED[model_type] = any(
            _has_own_models(f.annotation, {model_type}) for f in model_type.model_fields.values())
    return found


def encode_checked(model: BaseModel, command_type: str, prefix: Path = (), *,
                   ints: bool = True) -> tuple[str, dict[str, Any]]:
    """The model's JSON and that JSON decoded, or ValueRefused naming the field. `ints`:
    refuse integers beyond 64 bits too (events are stored; a command is not, so it only
    needs to be JSON)."""
    text = model.model_dump_json()
    try:
        data: dict[str, Any] = (_checked_loads if ints else _finite_loads)(text)
    except _Refused:
        found = find_unrepresentable(json.loads(text), ints=ints)
        assert found is not None
        raise ValueRefused(command_type, (*prefix, *found[0]), found[1]) from None
    if _walk_needed(type(model)):
        found = find_unrepresentable(model, ints=ints)
        if found is not None:
            raise ValueRefused(command_type, (*prefix, *found[0]), found[1])
    return text, data


# -- aggregate ids ---------------------------------------------------------------------------


def aggregate_key(aggregate_id: object) -> str:
    """The canonical string form of an aggregate id (what the store keys streams by)."""
    return aggregate_id if type(aggregate_id) is str else str(aggregate_id)


_ID_COLUMNS = ("correlation_id", "causation_id", "command_id")


def nul_in_columns(key: str, metadata: dict[str, Any]) -> Path | None:
    """The path of a value the log keeps in a text column of its own (the aggregate id;
    the correlation, causation and command ids of the metadata) that holds a NUL, which
    PostgreSQL refuses there; None when there is none. (Data and metadata are JSON text,
    where a NUL is written `\\u0000`: kept alike everywhere.)"""
    if NUL in key:
        return ("aggregate_id",)
    for name in _ID_COLUMNS:
        value = metadata.get(name)
        if type(value) is str and NUL in value:
            return ("metadata", name)
    return None


def command_key(command: BaseModel) -> str:
    """`aggregate_key` of a command's aggregate id; ValueRefused when it holds a NUL (no
    adapter reads or writes such a stream: PostgreSQL's text refuses it)."""
    key = aggregate_key(command.aggregate_id)  # type: ignore[attr-defined]
    if NUL in key:
        raise ValueRefused(type(command).__name__, ("aggregate_id",), NUL_PROBLEM)
    return key


def kept_text(text: str) -> str:
    """A message the store keeps for people (a parked step's error and traceback, a saga
    command's rejection) with each NUL written `\\x00`, as every adapter can keep it."""
    return text.replace(NUL, "\\x00") if NUL in text else text


def refuse_nul(command: BaseModel, path: Path, text: str | None) -> None:
    """ValueRefused when `text`, which the log keeps in a text column (an idempotency key
    is the command id), holds a NUL."""
    if text is not None and NUL in text:
        raise ValueRefused(type(command).__name__, path, NUL_PROBLEM)


_escaped = json.JSONEncoder(separators=(",", ":"), default=str).encode


def encode_data(data: dict[str, Any]) -> str:
    """The data's text as a dispatch stores it: a dispatch stores `model_dump_json()` of
    the event, pydantic's compact JSON (non-ASCII kept, its own float forms: `1e-7`,
    `0.00003`), and that serialiser gives the same text back from the JSON values it wrote
    (`to_json(json.loads(text)) == text`), so an exported event is stored again byte for
    byte. Data pydantic cannot write (a lone surrogate, which no dispatch stores either)
    keeps the escaped form it always had."""
    try:
        return _to_json(data).decode()
    except ValueError:
        return _escaped(data)
