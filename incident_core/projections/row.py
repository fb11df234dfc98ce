"""`Row`: a row model base whose `model_copy` is cheap for flat rows, with pydantic's result.

A model handler returns a new row per event, usually `row.model_copy(update=...)`, and
pydantic's copy (`BaseModel.__copy__`, then the update) costs about twice what a rebuild
spends reading and decoding an event. For a row model with no private attributes, no extra
fields allowed and no copy of its own (`__copy__`, `__new__` or `model_copy` overridden),
`Row.model_copy(update=...)` builds the very same copy in a few C calls: a new instance of
the class, its `__dict__` the old one with the update merged in (same key order), its
fields set the old one with the update's keys added (a copy of it when it holds them all:
equal, and smaller than a union's), no extra and no private values. Like
pydantic's it validates nothing; each result a handler returns is held to the row model by
the fold anyway (`incident_core.projections.row_truth`), so an update the store cannot keep
is refused as it would be with a `BaseModel` row. Any other call (`deep=True`, an update
that is not a dict, a class the rules above exclude) is pydantic's own `model_copy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel

__all__ = ["Row", "fast_copy"]

_new = object.__new__
# BaseModel's slots, set as its own `__copy__` sets them (without `object.__setattr__`)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class Row(BaseModel):
    """A projection's row model (subclass it as you would `BaseModel`), whose
    `model_copy(update=...)` is about 1 µs cheaper per call: see the module's docstring."""

    # whether `model_copy` of this very class may take the fast path (`fast_copy`)
    __incident_fast_copy__: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.__incident_fast_copy__ = fast_copy(cls)
        if not cls.__incident_fast_copy__:
            _PYDANTIC_COPY.add(cls)

    def model_copy(self, *, update: Mapping[str, Any] | None = None,
                   deep: bool = False) -> Self:
        """`BaseModel.model_copy`, the same copy built in line when the class allows
        (`fast_copy`), the copy is shallow and `update` is None or a dict."""
        cls = type(self)
        if deep or cls in _PYDANTIC_COPY:  # a set's lookup: a class attribute's costs more
            return super().model_copy(update=update, deep=deep)
        if update is None:
            update = {}
        elif type(update) is not dict:
            return super().model_copy(update=update, deep=deep)
        copied = _new(cls)
        _set_dict(copied, {**self.__dict__, **update})  # `|` pre-sizes for new keys: slower
        _set_extra(copied, None)
        fields = self.__pydantic_fields_set__  # most often already holds the update's keys:
        _set_fields(copied, fields.copy() if fields.issuperset(update)  # a copy's table is
                    else fields.union(update))  # smaller and made faster than a union's
        _set_private(copied, None)
        return copied


# The `Row` classes whose `model_copy` is pydantic's (`__incident_fast_copy__` False): few,
# and held for good, as pydantic holds the classes it builds schemas for.
_PYDANTIC_COPY: set[type[BaseModel]] = {Row}


def fast_copy(cls: type[BaseModel]) -> bool:
    """Whether `Row.model_copy` may build copies of `cls` in line: no private attributes,
    no extra fields allowed, and `__copy__`, `__new__` and `model_copy` as `Row` has them
    (a class with a copy of its own gets pydantic's, through it)."""
    return (not cls.__private_attributes__
            and cls.model_config.get("extra") != "allow"
            and cls.__copy__ is BaseModel.__copy__
            and cls.__new__ is BaseModel.__new__
            and cls.model_copy is Row.model_copy)
