"""What a generated form needs to know about one pydantic field: its kind and constraints.

Kinds: text, integer, decimal, float, bool, choice (Enum / Literal / optional bool), uuid,
datetime, date, time, model (a nested pydantic model: a sub-form), model_list (a list of
models: rows), dict (a JSON object) and json (anything else, typed as JSON).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from PySide6.QtGui import QColor, QPalette

__all__ = ["NOT_SET", "FieldKind", "FieldSpec", "Path", "error_color", "field_spec",
           "humanize", "path_text"]

FieldKind = Literal["text", "integer", "decimal", "float", "bool", "choice", "uuid",
                    "datetime", "date", "time", "model", "model_list", "dict", "json"]
Path = tuple[str | int, ...]


class _NotSet:
    """An empty input: the field is left out, so the model's default applies."""

    def __repr__(self) -> str:
        return "NOT_SET"


NOT_SET: Any = _NotSet()
_CONSTRAINTS = (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"))
# Order matters: bool before int, datetime before date (a datetime is a date).
_SCALARS: tuple[tuple[FieldKind, type], ...] = (
    ("bool", bool), ("integer", int), ("decimal", Decimal), ("float", float),
    ("uuid", uuid.UUID), ("datetime", dt.datetime), ("date", dt.date), ("time", dt.time),
    ("text", str))


def humanize(name: str) -> str:
    """`source_account_number` → `Source account number`."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def path_text(path: Path) -> str:
    """`("legs", 1, "destination")` → `legs[1].destination`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def error_color(palette: QPalette) -> QColor:
    """A red that reads on the palette's window colour (light or dark)."""
    dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    return QColor("#ff7b72") if dark else QColor("#c62828")


@dataclass(frozen=True)
class FieldSpec:
    """What the form needs to know about one field."""

    name: str
    kind: FieldKind
    required: bool
    optional: bool  # None is an accepted value
    default: Any
    choices: tuple[Any, ...] = ()
    description: str = ""
    constraints: list[str] = field(default_factory=list)
    model: type[BaseModel] | None = None  # kinds model and model_list

    @property
    def label(self) -> str:
        return humanize(self.name) + (" *" if self.required else "")


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """(base type, accepts None, extra metadata) of an annotation."""
    optional, metadata = False, []
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *metadata = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else Any
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *more = typing.get_args(annotation)
        metadata += more
    return annotation, optional, metadata


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _container_kind(base: Any) -> tuple[FieldKind, type[BaseModel] | None] | None:
    origin = typing.get_origin(base)
    if origin in (list, typing.List, tuple, typing.Sequence):  # noqa: UP006
        args = [a for a in typing.get_args(base) if a is not Ellipsis]
        item = _unwrap(args[0])[0] if len(args) == 1 else None
        return ("model_list", item) if _is_model(item) else None
    if origin in (dict, typing.Dict, typing.Mapping) or base is dict:  # noqa: UP006
        return "dict", None
    return None


def _kind_of(base: Any) -> tuple[FieldKind, tuple[Any, ...], type[BaseModel] | None]:
    if typing.get_origin(base) is Literal:
        return "choice", typing.get_args(base), None
    container = _container_kind(base)
    if container is not None:
        return container[0], (), container[1]
    if _is_model(base):
        return "model", (), base
    if isinstance(base, type):
        if issubclass(base, Enum):
            return "choice", tuple(member.value for member in base), None
        for kind, python_type in _SCALARS:
            if issubclass(base, python_type):
                return kind, (), None
    return "json", (), None


def _constraints(metadata: list[Any]) -> list[str]:
    out = []
    for item in metadata:
        for attr, sign in _CONSTRAINTS:
            if getattr(item, attr, None) is not None:
                out.append(f"{sign} {getattr(item, attr)}")
        low, high = getattr(item, "min_length", None), getattr(item, "max_length", None)
        if low is not None:
            out.append(f"at least {low} character{'s' if low != 1 else ''}")
        if high is not None:
            out.append(f"at most {high} character{'s' if high != 1 else ''}")
        if getattr(item, "decimal_places", None) is not None:
            out.append(f"up to {item.decimal_places} decimal places")
        if getattr(item, "pattern", None) is not None:
            out.append(f"matching {item.pattern}")
    return out


def _default(info: FieldInfo) -> Any:
    if info.is_required():
        return NOT_SET
    default = info.get_default(call_default_factory=False)  # a factory's: None (not called)
    if isinstance(default, Enum):
        return default.value
    if isinstance(default, BaseModel):
        return default.model_dump()
    if isinstance(default, list):
        return [item.model_dump() if isinstance(item, BaseModel) else item
                for item in default]
    return default


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    """Describe one pydantic field for the form."""
    base, optional, extra = _unwrap(info.annotation)
    kind, choices, model = _kind_of(base)
    if kind == "bool" and optional:
        kind, choices = "choice", (True, False)
    return FieldSpec(name, kind, info.is_required(), optional, _default(info), choices,
                     info.description or "", _constraints([*info.metadata, *extra]), model)
