"""Projection definitions: named read models with typed rows, built by folding events.

Each handler receives the current row for the event's key (or None) and returns the new
row, `None` to leave it unchanged, or `DELETE` to remove it. One event touches at most one
row of a projection; the row's key is the event's aggregate id unless `key=` says otherwise.
Rows are folded as row models, or (`row_form="dict"`) as plain dicts of the row model's
values, each handler's result held to the row model at once (see `Projection`).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, Literal, Protocol, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from incident_core.envelope import RecordedEvent
from incident_core.messages import Event
from incident_core.projections.row_check import CanonicalTest, exact_test
from incident_core.projections.row_truth import (
    RowRefused,
    model_refused,
    refuse_moved,
    row_problem,
    values_problem,
)
from incident_core.projections.spec import (
    ColumnKind,
    ColumnSpec,
    ProjectionSpec,
    normalise_row,
)

__all__ = ["DELETE", "ColumnKind", "ColumnSpec", "Delete", "Projection", "ProjectionSpec",
           "RowBuffer", "RowForm", "RowRefused", "RowTrail", "normalise_row"]

R = TypeVar("R", bound=BaseModel)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Delete:
    """Sentinel type: a handler returning DELETE removes the row."""

    _instance: Delete | None = None

    def __repr__(self) -> str:
        return "DELETE"


DELETE = Delete()
RowForm = Literal["model", "dict"]


def _column_kind(annotation: Any) -> tuple[ColumnKind, bool]:
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else str
    if typing.get_origin(annotation) is Literal:
        annotation = type(typing.get_args(annotation)[0])
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return "boolean", nullable
        if issubclass(annotation, int) and not issubclass(annotation, Enum):
            return "integer", nullable
        if issubclass(annotation, float):
            return "float", nullable
        if issubclass(annotation, str | Decimal | UUID | datetime | date | Enum):
            return "text", nullable
    raise TypeError(f"unsupported projection column type {annotation!r}")


Handler = Callable[[Any, Any, RecordedEvent], Any]
KeyFunction = Callable[[RecordedEvent, Any], str]
H = TypeVar("H", bound=Callable[..., Any])


class Projection(Generic[R]):
    """A read model::

        accounts = Projection("bank_accounts", AccountRow)

        @accounts.on(MoneyDeposited)
        def deposited(row: AccountRow | None, event: MoneyDeposited,
                      recorded: RecordedEvent) -> AccountRow | None: ...

    A handler never changes the row it gets: it returns a new one (`row.model_copy(update=
    ...)`, cheap for a row model subclassing `projections.Row`), None (unchanged) or
    DELETE. Every fold (live, rebuild, verify, as-of) holds each
    result to what the store would give back, at once (`kept`, see
    `incident_core.projections.row_truth`), so live rows equal rebuilt ones whatever events
    a unit of work folds together: a row of the exact field types of the row model, its
    integers within 64 bits and its floats finite, is kept as it is; any other is put in
    the store's form and read back, or refused (`RowRefused`: the table cannot hold it)
    even when a later event would fix it; a row changed in place by a handler that
    returns None is refused.

    With `row_form="dict"` handlers fold plain dicts, not row models (no pydantic copy per
    event): each gets the row as `row_model.model_dump()` gives it (times, decimals, enum
    members as Python values) and returns a new dict (never changing the one it got, nor
    the one it returns afterwards), None or DELETE, held to the row model in the same way:
    a dict of the exact field types is kept as it is (`row_check.exact_test`, for a row
    model without validators, constraints or a config of its own), any other is validated,
    stored and read back. That is the fast idiom for rebuilds: build each row with exactly
    the field types of the row model.
    """

    def __init__(self, name: str, row_type: type[R], *, key: str = "aggregate_id",
                 lineage: bool = True, row_form: RowForm = "model") -> None:
        if row_form not in ("model", "dict"):
            raise ValueError(f"row_form must be 'model' or 'dict', not {row_form!r}")
        if not _NAME.match(name) or name.startswith("incident_"):
            raise ValueError(f"projection name {name!r} must be lower_snake_case "
                             "and not start with 'incident_'")
        if key not in row_type.model_fields:
            raise ValueError(f"key {key!r} is not a field of {row_type.__name__}")
        self.name = name
        self.row_type = row_type
        self.key = key
        self.lineage = lineage  # record each row change (see incident_core.engine.lineage)
        self.row_form = row_form
        # the test that a result's values are kept as they are (see `kept`)
        self.exact: CanonicalTest = exact_test(row_type) or _never
        self.fold_type: type[Any] = row_type if row_form == "model" else dict
        self._handlers: dict[str, tuple[Handler, KeyFunction | None]] = {}
        columns = []
        for field_name, info in row_type.model_fields.items():
            kind, nullable = _column_kind(info.annotation)
            columns.append(ColumnSpec(field_name, kind, nullable))
        self.spec = ProjectionSpec(name, key, tuple(columns))

    def on(
        self,
        *event_types: type[Event],
        key: Callable[[RecordedEvent, Any], str] | None = None,
    ) -> Callable[[H], H]:
        """Register `handler(row | None, event, recorded) -> row | None | DELETE` for these
        event types; `key(recorded, event)` picks the row (default: the aggregate id)."""
        def register(fn: H) -> H:
            for etype in event_types:
                self._handlers[etype.__name__] = (fn, key)
            return fn
        return register

    @property
    def event_type_names(self) -> list[str]:
        return list(self._handlers)

    @property
    def handlers(self) -> Mapping[str, tuple[Handler, KeyFunction | None]]:
        """(handler, key function or None) by event type name (read-only view)."""
        return types.MappingProxyType(self._handlers)

    def handles(self, event_type: str) -> bool:
        return event_type in self._handlers

    def key_for(self, recorded: RecordedEvent, event: Event) -> str:
        _, key_fn = self._handlers[recorded.event_type]
        return recorded.aggregate_id if key_fn is None else key_fn(recorded, event)

    def apply(self, row: Any, recorded: RecordedEvent, event: Event) -> Any:
        """Call the handler on a folded row (see `folded`): the new folded row, None
        (unchanged) or DELETE; RowRefused for a result the fold cannot keep."""
        handler, _ = self._handlers[recorded.event_type]
        before = None if row is None else self.snapshot(row)
        return self.kept(row, before, handler(row, event, recorded))

    def snapshot(self, row: Any) -> dict[str, Any]:
        """A folded row's values, shallow-copied (what `kept` compares a row with)."""
        values: dict[str, Any] = (row.__dict__ if self.row_form == "model" else row).copy()
        return values

    def kept(self, row: Any, before: dict[str, Any] | None, result: Any) -> Any:
        """A handler's result (given `row`, whose `snapshot` was `before`) as the fold keeps
        it: the row as it is when `exact` passes it, else `settle`d; None, after checking
        that the row was left as it was; DELETE."""
        if result is None:
            if before is not None:
                refuse_moved(row.__dict__ if self.row_form == "model" else row, before)
            return None
        if type(result) is self.fold_type and self.exact(
                result.__dict__ if self.row_form == "model" else result):
            return result
        return result if isinstance(result, Delete) else self.settle(result)

    def settle(self, result: Any) -> Any:
        """A result the fast test did not pass, as the store gives it back (a folded row);
        RowRefused naming the column the table cannot hold."""
        model = self._as_model(result)
        refused = values_problem(model)
        if refused is not None:  # raised new: an exception kept in a local is a cycle
            raise RowRefused(*refused)
        try:
            stored: dict[str, Any] = model.model_dump(mode="json")
        except PydanticSerializationError as exc:
            raise RowRefused("<row>", f"cannot be put in the store's form: {exc}") from None
        problem = row_problem(self.spec, stored)
        if problem is not None:
            raise RowRefused(*problem)
        try:
            return self.folded(normalise_row(self.spec, stored))
        except ValidationError as exc:
            raise model_refused(exc, "read back from the store") from None

    def _as_model(self, result: Any) -> BaseModel:
        if self.row_form == "model":
            if not isinstance(result, BaseModel):
                raise TypeError(f"a handler of {self.name} returned a "
                                f"{type(result).__name__}, not a row model, None or DELETE")
            return result
        if not isinstance(result, dict):
            raise TypeError(f"a handler of {self.name} (row_form='dict') returned a "
                            f"{type(result).__name__}, not a dict, None or DELETE")
        return self.row_type.model_validate(result)  # its error, as a model handler's

    def load(self, stored: dict[str, Any]) -> R:
        return self.row_type.model_validate(stored)

    def dump(self, row: R) -> dict[str, Any]:
        dumped: dict[str, Any] = row.model_dump(mode="json")
        return dumped

    def folded(self, stored: dict[str, Any]) -> Any:
        """A stored row as the handlers fold it: its row model, or its values' dict."""
        model = self.load(stored)
        return model if self.row_form == "model" else model.model_dump()

    def stored(self, row: Any) -> dict[str, Any]:
        """A folded row in the store's dict form."""
        return self.dump(row if self.row_form == "model" else self.load(row))

    def step(self, row: dict[str, Any] | None, recorded: RecordedEvent,
             event: Event) -> dict[str, Any] | Delete | None:
        """Apply one event to one stored row (dicts in, dicts out)."""
        result = self.apply(None if row is None else self.folded(row), recorded, event)
        if result is None or isinstance(result, Delete):
            return result
        return self.stored(result)


def _never(values: dict[str, Any]) -> bool:
    return False


class RowTrail(Protocol):
    """What a `RowBuffer` tells about each row change it makes (the engine's
    `incident_core.engine.lineage.LineageTrail` records them as row lineage)."""

    def before(self, key: str, row: dict[str, Any] | None) -> str | None: ...

    def known(self, key: str) -> bool: ...

    def add(self, key: str, recorded: RecordedEvent, before: str | None,
            after: dict[str, Any] | None) -> None: ...


class RowBuffer(Generic[R]):
    """Rows of one projection being folded over many events: folded rows (models, or JSON
    dicts, see `Projection.row_form`) stay in memory and are loaded/dumped once per row, not
    once per event; changes are written back in bulk.
    `fetch(keys)` loads stored rows for keys not seen yet (returns {} for a rebuild);
    `trail` (a `LineageTrail`), when given, collects each row change with before/after."""

    def __init__(self, projection: Projection[R],
                 fetch: Callable[[list[str]], dict[str, dict[str, Any]]], *,
                 trail: RowTrail | None = None) -> None:
        self.projection = projection
        self._fetch = fetch
        self.trail = trail
        self.rows: dict[str, Any] = {}  # folded rows (None: absent)
        self.changed: set[str] = set()

    def prefetch(self, keys: Iterable[str]) -> None:
        missing = [k for k in dict.fromkeys(keys) if k not in self.rows]
        if missing:
            found = self._fetch(missing)
            folded = self.projection.folded
            for key in missing:
                stored = found.get(key)
                self.rows[key] = None if stored is None else folded(stored)

    def apply(self, key: str, recorded: RecordedEvent, event: Event) -> None:
        if key not in self.rows:
            self.prefetch([key])
        trail = self.trail
        if trail is not None:
            self._traced(trail, key, recorded, event)
            return
        result = self.projection.apply(self.rows[key], recorded, event)
        if result is None:
            return
        self.rows[key] = None if isinstance(result, Delete) else result
        self.changed.add(key)

    def _traced(self, trail: RowTrail, key: str, recorded: RecordedEvent,
                event: Event) -> None:
        """`apply` recording the change: the row is dumped before the handler runs (it
        may change the model in place) and after it."""
        row = self.rows[key]
        projection = self.projection
        before = trail.before(key, None if row is None or trail.known(key)
                              else projection.stored(row))
        result = projection.apply(row, recorded, event)
        if result is None:
            return
        self.changed.add(key)
        if isinstance(result, Delete):
            self.rows[key] = None
            trail.add(key, recorded, before, None)
        else:
            self.rows[key] = result
            trail.add(key, recorded, before, projection.stored(result))

    def changes(self) -> tuple[list[dict[str, Any]], list[str]]:
        """(rows to upsert, keys to delete) since the buffer was made."""
        dump = self.projection.stored
        puts, deletes = [], []
        for key in self.changed:
            row = self.rows[key]
            if row is None:
                deletes.append(key)
            else:
                puts.append(dump(row))
        return puts, deletes

    def dumped_rows(self) -> Iterator[dict[str, Any]]:
        """Every present row, dumped (a rebuild's complete result)."""
        dump = self.projection.stored
        return (dump(row) for row in self.rows.values() if row is not None)
