"""Which domain objects can be changed in place, and private copies of those that can.

The engine keeps objects that domain code was handed (a committed state in the cache, the
state a batch falls back to, a decoded event that several handlers receive). Pydantic's
`frozen` covers a model's own fields, not what they hold: a `list`, `dict` or `set` field, a
nested model that is not frozen, an `Any` can be changed in place, and then a live result
would differ from a replay of the log. So the engine decides once per model type, from its
pydantic core schema, what such a type is (`kind`):

- `FROZEN`: nothing in it can be changed in place (str, numbers, enums, datetimes, tuples
  and frozensets of such, frozen models and dataclasses of such). Shared freely, at no cost.
- `FRESH`: it holds containers that can be changed, but validating stored data builds
  every one of them afresh (a list of models, a dict of str).
- `SHARES`: validation may hand an input object through as it is (`Any`, an arbitrary
  class, a plain validator function, a model with extra fields or private attributes):
  decoding stored data privately copies the data first.

Objects of the last two kinds are never shared between domain code and what the engine
keeps: `own` gives a private copy (what can change is new, the rest shared), `unchanged`
tells what domain code changed in its copy.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from incident_core.domain import copy_json

__all__ = ["FRESH", "FROZEN", "SHARES", "ChangedInPlace", "copies", "copy_data", "frozen",
           "kind", "own", "unchanged"]

FROZEN, FRESH, SHARES = 0, 1, 2
M = TypeVar("M")

_LEAVES = frozenset({
    "none", "bool", "int", "float", "decimal", "complex", "str", "bytes", "date", "time",
    "datetime", "timedelta", "uuid", "url", "multi-host-url", "literal", "enum",
    "is-subclass",
})
_CONTAINERS = frozenset({"list", "set", "dict", "generator", "typed-dict"})
_WRAPPERS = frozenset({"nullable", "default", "function-before", "function-after",
                       "function-wrap", "custom-error", "json-or-python", "lax-or-strict"})
Copier = Callable[[Any], Any]
_kinds: dict[type, int] = {}
_copiers: dict[type, Copier] = {}
_lock = threading.Lock()


class ChangedInPlace(Exception):
    """Domain code changed in place an object it was given (the engine keeps it)."""


def kind(model: type[BaseModel]) -> int:
    """`FROZEN`, `FRESH` or `SHARES` for a model type (see the module); decided once."""
    found = _kinds.get(model)
    if found is None:
        with _lock:
            found = _kinds[model] = _classify(model)
    return found


def frozen(model: type[Any]) -> bool:
    """Whether objects of this model type cannot be changed in place."""
    found = _kinds.get(model)
    return (found if found is not None else kind(model)) == FROZEN


def own(obj: M) -> M:
    """`obj` itself if nothing in it can be changed in place, else a copy of it that
    shares nothing changeable: its lists, dicts, sets and unfrozen models are new, what
    cannot change (frozen models, strings, numbers, times) is shared, so the copy compares
    equal even where a float is NaN. Built once per type from its schema (`copies`)."""
    copier = _copiers.get(type(obj))
    if copier is None:
        copier = _copiers[type(obj)] = copies(type(obj))
    return cast(M, copier(obj))


def copies(model: type[Any]) -> Copier:
    """The function `own` copies objects of `model` with."""
    found = kind(model)
    if found == FROZEN:
        return _same
    if found == SHARES:
        return copy.deepcopy
    try:
        return _Copies().node(model.__pydantic_core_schema__) or _same
    except Exception:  # a schema this walk does not know: copied whole
        return copy.deepcopy


def copy_data(model: type[BaseModel], data: Any) -> Any:
    """Stored (JSON) data to validate into a private `model`: itself, unless validation
    could hand some of it through (`SHARES`), then a copy."""
    if kind(model) != SHARES:
        return data
    return copy_json(data)


def unchanged(kept: BaseModel, given: BaseModel, what: str) -> None:
    """ChangedInPlace unless `given` (domain code's copy of `kept`) still equals `kept`.
    Nothing is told of a type whose copies never equal the original (an `Any` holding an
    object without `__eq__`): its changes cannot be seen."""
    if given is kept or given == kept or own(kept) != kept:
        return
    fields = [name for name in type(kept).model_fields
              if getattr(kept, name, None) != getattr(given, name, None)]
    named = ", ".join(fields) or "its extra or private attributes"
    raise ChangedInPlace(f"it changed in place the {what} it was given ({named}); "
                         f"return new objects instead (the engine keeps the one it gave)")


def _classify(model: type[BaseModel]) -> int:
    try:
        return _Walk().kind(model.__pydantic_core_schema__)
    except Exception:  # not a pydantic model, a schema not built: treated as changeable
        return SHARES


class _Walk:
    """One walk of a core schema; a definition in progress counts as frozen (a recursive
    model is frozen if nothing else in it can change)."""

    def __init__(self) -> None:
        self.definitions: dict[str, Mapping[str, Any]] = {}
        self.seen: dict[str, int] = {}

    def kind(self, schema: Mapping[str, Any]) -> int:
        ref = schema.get("ref")
        if isinstance(ref, str):
            if ref in self.seen:
                return self.seen[ref]
            self.seen[ref] = FROZEN
            self.seen[ref] = found = self._node(schema)
            return found
        return self._node(schema)

    def _node(self, schema: Mapping[str, Any]) -> int:
        tag = schema["type"]
        if tag in _LEAVES:
            return FROZEN
        if tag in _WRAPPERS or tag == "definitions":
            return self._wrapper(schema)
        if tag == "definition-ref":
            target = self.definitions.get(schema["schema_ref"])
            return SHARES if target is None else self.kind(target)
        if tag in _CONTAINERS:
            return _most(FRESH, self._all(schema))
        if tag in ("tuple", "frozenset"):
            return _most(FROZEN, self._all(schema))
        if tag in ("union", "tagged-union", "chain"):
            return _most(FROZEN, self._all(schema))
        if tag == "model":
            return self._model(schema)
        if tag == "dataclass":
            params = getattr(schema["cls"], "__dataclass_params__", None)
            inner = self.kind(schema["schema"])
            return inner if params is not None and params.frozen else max(FRESH, inner)
        if tag in ("model-fields", "dataclass-args"):
            return _most(FROZEN, self._all(schema))
        return SHARES  # any, is-instance, function-plain, json, callable, unknown

    def _wrapper(self, schema: Mapping[str, Any]) -> int:
        for definition in schema.get("definitions", ()):
            self.definitions[definition["ref"]] = definition
        found = [self.kind(schema[key]) for key in ("schema", "json_schema", "python_schema",
                                                   "lax_schema", "strict_schema")
                 if key in schema]
        return _most(FROZEN, found)

    def _model(self, schema: Mapping[str, Any]) -> int:
        cls = schema["cls"]
        config = cls.model_config
        if cls.__private_attributes__ or config.get("extra") == "allow":
            return SHARES
        inner = self.kind(schema["schema"])
        return inner if config.get("frozen") else max(FRESH, inner)

    def _all(self, schema: Mapping[str, Any]) -> Iterator[int]:
        """The kinds of a node's inner schemas (items, keys, values, fields, choices)."""
        for key in ("items_schema", "keys_schema", "values_schema", "extras_schema"):
            inner = schema.get(key)
            if isinstance(inner, list):
                yield from (self.kind(s) for s in inner)
            elif inner is not None:
                yield self.kind(inner)
        for field in _fields(schema.get("fields")):
            yield self.kind(field["schema"])
        for choice in _choices(schema):
            yield self.kind(choice)
        for step in schema.get("steps", ()):
            yield self.kind(step)


def _most(least: int, kinds: Iterable[int]) -> int:
    return max(least, max(kinds, default=FROZEN))


def _fields(fields: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(fields, Mapping):
        yield from fields.values()
    elif isinstance(fields, list):
        yield from (f for f in fields if isinstance(f, Mapping))


def _choices(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    choices = schema.get("choices", ())
    values = choices.values() if isinstance(choices, Mapping) else choices
    for choice in values:
        yield choice[0] if isinstance(choice, tuple) else choice


_new, _set = object.__new__, object.__setattr__


def _same(obj: Any) -> Any:
    return obj


class _Copies:
    """One walk of a `FRESH` type's core schema: the copier of each node, None where the
    value can be shared (cannot change). A value that is not of the schema's very type (a
    subclass instance kept by pydantic) and any node not handled here is deep-copied."""

    def __init__(self) -> None:
        self.definitions: dict[str, Mapping[str, Any]] = {}
        self.done: dict[str, Copier | None] = {}

    def node(self, schema: Mapping[str, Any]) -> Copier | None:
        ref = schema.get("ref")
        if not isinstance(ref, str):
            return self._node(schema)
        if ref not in self.done:
            def later(value: Any) -> Any:  # a recursive reference: the finished copier
                return (self.done[ref] or _same)(value)
            self.done[ref] = later
            self.done[ref] = self._node(schema)
        return self.done[ref]

    def _node(self, schema: Mapping[str, Any]) -> Copier | None:
        tag = schema["type"]
        if tag in _LEAVES:
            return None
        if tag in ("nullable", "default", "function-before", "function-after",
                   "function-wrap", "custom-error", "definitions"):
            for definition in schema.get("definitions", ()):
                self.definitions[definition["ref"]] = definition
            return self.node(schema["schema"])
        if tag == "definition-ref":
            return self.node(self.definitions[schema["schema_ref"]])
        if tag == "list":
            return _list_of(self.node(schema.get("items_schema", {"type": "any"})))
        if tag == "dict":
            keys = self.node(schema.get("keys_schema", {"type": "any"}))
            values = self.node(schema.get("values_schema", {"type": "any"}))
            return copy.deepcopy if keys is not None else _dict_of(values)
        if tag == "model":
            return self._model(schema)
        if _Walk().kind({"type": "definitions", "schema": schema,
                         "definitions": list(self.definitions.values())}) == FROZEN:
            return None
        return copy.deepcopy  # sets, unions, tuples of changeable things, dataclasses

    def _model(self, schema: Mapping[str, Any]) -> Copier | None:
        cls, fields = schema["cls"], schema["schema"]
        if fields["type"] != "model-fields" or kind(cls) == SHARES:
            return copy.deepcopy
        changing = [(name, found) for name, field in fields["fields"].items()
                    if (found := self.node(field["schema"])) is not None]
        if not changing and cls.model_config.get("frozen"):
            return None

        def copy_model(value: Any) -> Any:
            """What pydantic's `__copy__` does for a model without extras or private
            attributes (three times faster), then the changeable fields copied."""
            if type(value) is not cls:
                return copy.deepcopy(value)
            held = value.__dict__.copy()
            for name, copier in changing:
                if held.get(name) is not None:
                    held[name] = copier(held[name])
            mine = _new(cls)
            _set(mine, "__dict__", held)
            _set(mine, "__pydantic_fields_set__", set(value.__pydantic_fields_set__))
            _set(mine, "__pydantic_extra__", None)
            _set(mine, "__pydantic_private__", None)
            return mine
        return copy_model


def _list_of(item: Copier | None) -> Copier:
    if item is None:
        return lambda value: value.copy() if type(value) is list else copy.deepcopy(value)
    return lambda value: ([item(x) for x in value] if type(value) is list
                          else copy.deepcopy(value))


def _dict_of(values: Copier | None) -> Copier:
    if values is None:
        return lambda value: value.copy() if type(value) is dict else copy.deepcopy(value)
    return lambda value: ({k: values(v) for k, v in value.items()} if type(value) is dict
                          else copy.deepcopy(value))
