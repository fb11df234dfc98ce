"""A cheap, exact test that a dict row is already what its row model would make of it.

A dict-folding projection (`Projection(..., row_form="dict")`) must keep each row exactly as
`row_model.model_validate(row).model_dump()` gives it, so that the next handler sees the
same values live (the row read back from the store) and in a rebuild (the row kept in
memory). Validating and dumping every returned dict costs what the model path's
`model_copy` costs; `canonical_test(row_model)` gives a test that says, without either, when
they would give the dict back unchanged: every field present, no other key, and each value
of the exact type that the field's schema takes as it is (an unconstrained `int`, `str`,
`float`, `bool`, time, date, UUID, finite decimal or enum member; None where the field is
nullable). A model with anything that could
change or refuse such a value (validators, constraints, aliases, computed fields, a config of
its own) gets no test: each of its rows is validated and dumped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from operator import itemgetter
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from incident_core.values import INT_MAX, INT_MIN

__all__ = ["CanonicalTest", "canonical_test", "exact_test"]

CanonicalTest = Callable[[dict[str, Any]], bool]

_PLAIN: dict[str, type] = {"int": int, "str": str, "float": float, "bool": bool,
                           "date": date, "uuid": UUID, "decimal": Decimal}
_MODEL_KEYS = {"cls", "config", "custom_init", "metadata", "ref", "root_model", "schema",
               "type"}
_FIELD_KEYS = {"type", "schema", "metadata"}
_ENUM_KEYS = {"type", "cls", "members", "sub_type", "metadata", "ref"}


def _field_type(schema: Mapping[str, Any]) -> tuple[type, bool] | None:
    """(the one type this field schema takes unchanged, whether None is taken too)."""
    if schema.get("type") == "default" and set(schema) <= {"type", "schema", "default",
                                                          "default_factory", "metadata"}:
        schema = schema["schema"]  # the default is not used: a row holds every field
    nullable = schema.get("type") == "nullable"
    if nullable:
        if set(schema) - {"type", "schema", "metadata"}:
            return None
        schema = schema["schema"]
    kind, keys = schema.get("type"), set(schema)
    if kind in _PLAIN and keys == {"type"}:
        return _PLAIN[kind], nullable
    if kind == "datetime" and keys <= {"type", "microseconds_precision"} \
            and schema.get("microseconds_precision", "truncate") == "truncate":
        return datetime, nullable
    if kind == "enum" and keys <= _ENUM_KEYS and isinstance(schema.get("cls"), type):
        return schema["cls"], nullable
    return None


def _fields(row_type: type[BaseModel]) -> list[tuple[str, type, bool]] | None:
    schema: Mapping[str, Any] = row_type.__pydantic_core_schema__
    if (schema.get("type") != "model" or set(schema) - _MODEL_KEYS
            or schema.get("custom_init") or schema.get("root_model")
            or set(schema.get("config", {})) - {"title"}
            or row_type.model_validate.__func__ is not BaseModel.model_validate.__func__  # type: ignore[attr-defined]
            or row_type.model_dump is not BaseModel.model_dump):
        return None
    inner = schema["schema"]
    if inner.get("type") != "model-fields" or inner.get("computed_fields") \
            or set(inner) - {"type", "fields", "model_name", "computed_fields"}:
        return None
    out = []
    for name, field in inner["fields"].items():
        found = _field_type(field["schema"]) if set(field) <= _FIELD_KEYS else None
        if found is None:
            return None
        out.append((name, *found))
    return out


def canonical_test(row_type: type[BaseModel]) -> CanonicalTest | None:
    """`test(row)`: True only when validating and dumping `row` would give it back unchanged;
    None when the row model is not one this test can speak for."""
    fields = _fields(row_type)
    return None if fields is None else _test(fields)


def exact_test(row_type: type[BaseModel]) -> CanonicalTest | None:
    """`canonical_test`, and the row is one the store gives back equal: every integer
    within signed 64 bits, every float finite and not -0.0. The fold keeps a row this test
    passes as it is (a row model's `__dict__`, or a dict row); None as for `canonical_test`.

    It runs on every handler's result, so it is compiled for the row model: one line of
    `type(value) is T` tests (which CPython runs without a call) and range tests per field,
    built from the field names and types only (see `_compiled`)."""
    fields = _fields(row_type)
    return None if fields is None else _compiled(fields)


def _compiled(fields: list[tuple[str, type, bool]]) -> CanonicalTest:
    names: dict[str, Any] = {"INT_MIN": INT_MIN, "INT_MAX": INT_MAX, "COPYSIGN": math.copysign}
    loads, tests = [], []
    for i, (name, kind, nullable) in enumerate(fields):
        names[f"K{i}"] = kind
        loads.append(f"v{i} = row[{name!r}]")
        line = f"type(v{i}) is K{i}"
        if kind is int:
            line += f" and INT_MIN <= v{i} <= INT_MAX"
        elif kind is float:
            # finite (x - x is nan for inf and nan), and not -0.0 (stored as 0.0 by SQLite)
            line += f" and v{i} - v{i} == 0.0 and (v{i} != 0.0 or COPYSIGN(1.0, v{i}) > 0.0)"
        elif kind is Decimal:
            line += f" and v{i}.is_finite()"
        elif kind is str:  # no NUL: PostgreSQL's text refuses it (~20 ns a column)
            line += f" and '\\x00' not in v{i}"
        elif members := _nul_members(kind):  # an enum with a member whose text holds a NUL
            names[f"N{i}"] = members
            line += f" and v{i} not in N{i}"
        tests.append(f"(v{i} is None or {line})" if nullable else f"({line})")
    source = (f"def test(row):\n"
              f"    if len(row) != {len(fields)}:\n        return False\n"
              f"    try:\n        {'; '.join(loads)}\n"
              f"    except KeyError:\n        return False\n"
              f"    return {' and '.join(tests)}\n")
    exec(compile(source, f"<exact_test of {len(fields)} fields>", "exec"), names)
    compiled: CanonicalTest = names["test"]
    return compiled


def _nul_members(kind: type) -> frozenset[Any]:
    """The members of an enum whose value is text holding a NUL (none for other types)."""
    if not issubclass(kind, Enum):
        return frozenset()
    return frozenset(m for m in kind if isinstance(m.value, str) and "\x00" in m.value)


def _test(fields: list[tuple[str, type, bool]]) -> CanonicalTest:
    count = len(fields)
    values: Callable[[Any], tuple[Any, ...]] = itemgetter(*(name for name, _, _ in fields))
    kinds = tuple(kind for _, kind, _ in fields)
    if len(fields) == 1:
        values = _one(values)
    exact = Decimal not in kinds  # an exact type is then enough

    def test(row: dict[str, Any]) -> bool:
        if len(row) != count:
            return False
        try:
            found = values(row)  # every field there, and (as many keys) no other key
        except KeyError:
            return False
        if exact and tuple(map(type, found)) == kinds:
            return True
        return all(_takes(value, kind, nullable)
                   for value, (_, kind, nullable) in zip(found, fields, strict=True))

    return test


def _one(get: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, ...]]:
    return lambda row: (get(row),)


def _takes(value: Any, kind: type[Any], nullable: bool) -> bool:
    if type(value) is not kind:
        return nullable and value is None
    return not isinstance(value, Decimal) or value.is_finite()
