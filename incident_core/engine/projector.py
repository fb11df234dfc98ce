"""The one projector: folding recorded events into projection rows.

Every fold of events into rows goes through a `ProjectionRun` (one projection's rows in a
`RowBuffer`): the live unit of work (rows fetched from its transaction, lineage indexed),
rebuild and verify (`ProjectionFold`: several projections at once, from nothing), as-of
queries and the staging of lineage before a rebuild's swap. Each event is decoded once
(`incident_core.engine.decoder`), then handed to every projection that handles it; rows stay
row models while folding and are dumped to the store's dict form once, at the end. A
handler or key function that raises becomes a `DomainCodeError` naming the projection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from incident_core.collector import collector_paused
from incident_core.domain import Domain
from incident_core.engine.decoder import decode
from incident_core.engine.immutable import frozen
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.messages import Event
from incident_core.projections.definition import (
    Delete,
    Projection,
    ProjectionSpec,
    RowBuffer,
)
from incident_core.values import INT_MAX, INT_MIN

__all__ = ["KeyTrail", "ProjectionFold", "ProjectionRun", "row_problem"]

Fetch = Callable[[list[str]], dict[str, dict[str, Any]]]
OnError = Callable[[RecordedEvent, Exception], None]


class KeyTrail(Protocol):
    """Told the row key of each event a `ProjectionRun` applies (the engine's
    `incident_core.engine.lineage.IndexTrail` keeps the lineage index's entries)."""

    def keyed(self, key: str, recorded: RecordedEvent) -> None: ...


def _nothing_stored(keys: list[str]) -> dict[str, dict[str, Any]]:
    return {}


class ProjectionRun:
    """One projection's share of a fold: its rows, and the last position it may see.

    `fetch(keys)` loads stored rows for keys not seen yet (nothing, for a rebuild);
    `trail` is told each event's row key (the lineage index); `on_error(recorded, exc)` is told of a
    failing handler before it is turned into a `DomainCodeError` (the unit of work blames
    the saga step that recorded the event)."""

    __slots__ = ("applied", "buffer", "key_for", "name", "on_error", "trail", "until")

    def __init__(self, projection: Projection[Any], fetch: Fetch = _nothing_stored, *,
                 trail: KeyTrail | None = None, until: int | None = None,
                 on_error: OnError | None = None) -> None:
        self.name = projection.name
        self.key_for = projection.key_for
        self.buffer = RowBuffer(projection, fetch)
        self.trail = trail
        self.applied = 0
        self.until = until
        self.on_error = on_error

    def apply(self, recorded: RecordedEvent, event: Event, key: str | None = None) -> None:
        """Apply one event to the row it addresses (`key`, when the caller knows it)."""
        try:
            if key is None:
                key = self.key_for(recorded, event)
            self.buffer.apply(key, recorded, event)
        except Exception as exc:
            raise self.failed(recorded, exc) from exc
        self.applied += 1
        if self.trail is not None:
            self.trail.keyed(key, recorded)

    def fold(self, work: Sequence[tuple[RecordedEvent, Event]]) -> dict[str, RecordedEvent]:
        """Apply events in order, the stored rows they address fetched in one go first;
        the last event applied to each row, by key."""
        keyed = []
        for recorded, event in work:
            try:
                keyed.append((self.key_for(recorded, event), recorded, event))
            except Exception as exc:
                raise self.failed(recorded, exc) from exc
        self.buffer.prefetch(key for key, _, _ in keyed)
        last: dict[str, RecordedEvent] = {}
        for key, recorded, event in keyed:
            self.apply(recorded, event, key)
            last[key] = recorded
        return last

    def failed(self, recorded: RecordedEvent, exc: Exception) -> Exception:
        if self.on_error is not None:
            self.on_error(recorded, exc)
        if isinstance(exc, IncidentError):
            return exc
        return DomainCodeError(f"projection {self.name} on {recorded.event_type}", exc)


class ProjectionFold:
    """Replays events into the rows of several projections.

    `until` caps a projection at a position (verify replays each projection only up to
    its checkpoint); `trails` are told the row keys of the projections they name (a
    rebuild's lineage index, see `incident_core.engine.lineage.StagedLineage`); event types the
    domain does not know are skipped, as the live projector does.
    """

    def __init__(self, domain: Domain, projections: Sequence[Projection[Any]],
                 until: dict[str, int] | None = None, *,
                 trails: Mapping[str, KeyTrail] | None = None) -> None:
        self.domain = domain
        until, trails = until or {}, trails or {}
        self._routes = {p.name: ProjectionRun(p, until=until.get(p.name),
                                              trail=trails.get(p.name))
                        for p in projections}
        self._by_type: dict[str, list[ProjectionRun]] = {}
        for projection in projections:
            for event_type in projection.event_type_names:
                if domain.knows_event(event_type):
                    self._by_type.setdefault(event_type, []).append(self._routes[projection.name])

    @property
    def event_types(self) -> tuple[str, ...]:
        """The event types some projection of this fold handles."""
        return tuple(self._by_type)

    def rows(self, name: str) -> Iterator[dict[str, Any]]:
        """The replayed rows of a projection, in the store's dict form."""
        return self._routes[name].buffer.dumped_rows()

    def row_count(self, name: str) -> int:
        return sum(1 for row in self._routes[name].buffer.rows.values() if row is not None)

    def applied(self, name: str) -> int:
        return self._routes[name].applied

    def feed(self, recorded: RecordedEvent, event: Event | None = None) -> None:
        """Apply one event (decoded here unless `event` is given) to every projection."""
        routes = self._by_type.get(recorded.event_type)
        if not routes:
            return
        if event is None:
            event = decode(self.domain, recorded)
        position = recorded.position
        shared = frozen(type(event))  # else each route after the first gets its own copy
        for number, route in enumerate(routes):
            if route.until is not None and position > route.until:
                continue
            route.apply(recorded, event if shared or not number
                        else decode(self.domain, recorded))

    def wants(self, event_type: str) -> bool:
        return event_type in self._by_type

    def feed_page(self, page: Sequence[RecordedEvent]) -> None:
        """`feed` each event of a page, in order, in one loop (a rebuild's hot path): the
        same rows, counts, trails and errors. An event stored at its type's current schema
        version is decoded by the model's validator (`decode` otherwise, and for the error
        of data the validator refuses); handlers are called in line."""
        with collector_paused():  # a page's events and rows hold no cycles worth a scan
            self._fold_page(page)

    def _fold_page(self, page: Sequence[RecordedEvent]) -> None:
        plans = self._plans()
        domain = self.domain
        for recorded in page:
            plan = plans.get(recorded.event_type)
            if plan is None:
                continue
            validate, version, steps, shared = plan
            try:
                if recorded.schema_version != version:
                    raise _Upcast
                event = validate(recorded.data) if shared else decode(domain, recorded)
            except Exception:  # upcasters, or the error as `decode` words it
                event = decode(domain, recorded)
            for number, (run, handler, key_fn, rows, canonical, kept) in enumerate(steps):
                if run.until is not None and recorded.position > run.until:
                    continue
                try:
                    if number and not shared:  # a changeable event: each its own copy
                        event = decode(domain, recorded)
                    key = recorded.aggregate_id if key_fn is None else key_fn(recorded, event)
                    row = rows.get(key, _ABSENT)
                    if row is _ABSENT:
                        run.buffer.prefetch([key])
                        row = rows[key]
                    result = handler(row, event, recorded)
                    if kept is not None and not (type(result) is dict and canonical(result)):
                        result = kept(result)
                except Exception as exc:
                    raise run.failed(recorded, exc) from exc
                if result is not None:
                    rows[key] = None if isinstance(result, Delete) else result
                    run.buffer.changed.add(key)
                run.applied += 1
                if run.trail is not None:
                    run.trail.keyed(key, recorded)

    def _plans(self) -> dict[str, _Plan]:
        """By event type: its validator, its schema version, and each projection's run with
        its handler, key function and rows, and for dict rows the test of a dict kept as it
        is and what keeps any other result (`Projection.canonical`, `Projection.kept`)."""
        plans: dict[str, _Plan] = {}
        for event_type, runs in self._by_type.items():
            etype = self.domain.event_types[event_type]
            steps = []
            for run in runs:
                projection = run.buffer.projection
                handler, key_fn = projection.handlers[event_type]
                dicts = projection.row_form == "dict"
                steps.append((run, handler, key_fn, run.buffer.rows,
                              projection.canonical or _never, projection.kept if dicts else None))
            plans[event_type] = (etype.__pydantic_validator__.validate_python,
                                 etype.schema_version, tuple(steps), frozen(etype))
        return plans


def _never(row: dict[str, Any]) -> bool:
    return False


class _Upcast(Exception):
    """An event stored at another schema version: decoded by `decode`."""


_ABSENT: Any = object()
_Handler = Callable[[Any, Event, RecordedEvent], Any]
_Step = tuple[ProjectionRun, _Handler, Callable[[RecordedEvent, Any], str] | None,
              dict[str, Any], Callable[[dict[str, Any]], bool], Callable[[Any], Any] | None]
_Plan = tuple[Callable[[Any], Event], int, tuple[_Step, ...], bool]


def row_problem(spec: ProjectionSpec, row: dict[str, Any]) -> tuple[str, str] | None:
    """(column, problem) when the row cannot be stored exactly in the projection's table."""
    for column in spec.columns:
        value = row.get(column.name)
        if value is None:
            if not column.nullable:
                return column.name, "no value (a non-finite float is stored as none)"
        elif column.kind == "integer":
            if not isinstance(value, int | float):
                return column.name, f"a {type(value).__name__}, not a number"
            if isinstance(value, float) and not value.is_integer():
                return column.name, "not a whole number (an integer column)"
            if not INT_MIN <= value <= INT_MAX:
                return column.name, "integer outside the signed 64-bit range of the column"
    return None
