"""The one projector: folding recorded events into projection rows.

Every fold of events into rows goes through a `ProjectionRun` (one projection's rows in a
`RowBuffer`): the live unit of work (rows fetched from its transaction, lineage indexed),
rebuild and verify (`ProjectionFold`: several projections at once, from nothing), as-of
queries and the staging of lineage before a rebuild's swap. Each event is decoded once
(`incident_core.engine.decoder`), then handed to every projection that handles it; rows stay
row models while folding and are dumped to the store's dict form once, at the end, each
handler's result held at once to what the store would give back (`Projection.kept`), so
live rows equal rebuilt ones however a unit of work batches its events. A handler or key
function that raises becomes a `DomainCodeError` naming the projection; a row the fold
refuses names the projection, the row, the event and the column.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from incident_core.collector import collector_paused
from incident_core.domain import Domain
from incident_core.engine.decoder import decode
from incident_core.engine.immutable import frozen
from incident_core.engine.page_fold import KeyTrail, fold_page, page_plans
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.messages import Event
from incident_core.projections.definition import (
    Delete,
    Handler,
    KeyFunction,
    Projection,
    RowBuffer,
    RowRefused,
)

__all__ = ["KeyTrail", "ProjectionFold", "ProjectionRun", "Refuse", "SingleStep", "forget_steps",
           "single_step"]

Fetch = Callable[[list[str]], dict[str, dict[str, Any]]]
OnError = Callable[[RecordedEvent, Exception], None]
# the error for a row the fold refused: (projection, event, row key, refusal)
Refuse = Callable[[str, RecordedEvent, str, RowRefused], Exception]
# told of a row the fold refused, which it then leaves as the handler left it (verify)
Noted = Callable[[str, RecordedEvent, str, RowRefused], None]


def _nothing_stored(keys: list[str]) -> dict[str, dict[str, Any]]:
    return {}


class ProjectionRun:
    """One projection's share of a fold: its rows, and the last position it may see.

    `fetch(keys)` loads stored rows for keys not seen yet (nothing, for a rebuild);
    `trail` is told each event's row key (the lineage index); `on_error(recorded, exc)` is told of a
    failing handler before it is turned into a `DomainCodeError` (the unit of work blames
    the saga step that recorded the event); `refuse(name, recorded, key, refused)` makes the
    error for a row the fold refused (by default a `DomainCodeError` naming them)."""

    __slots__ = ("applied", "buffer", "key_for", "name", "noted", "on_error", "refuse", "trail",
                 "until")

    def __init__(self, projection: Projection[Any], fetch: Fetch = _nothing_stored, *,
                 trail: KeyTrail | None = None, until: int | None = None,
                 on_error: OnError | None = None, refuse: Refuse | None = None,
                 noted: Noted | None = None) -> None:
        self.name = projection.name
        self.key_for = projection.key_for
        self.buffer = RowBuffer(projection, fetch)
        self.trail = trail
        self.applied = 0
        self.until = until
        self.on_error = on_error
        self.refuse = refuse or row_refused
        self.noted = noted

    def apply(self, recorded: RecordedEvent, event: Event, key: str | None = None) -> None:
        """Apply one event to the row it addresses (`key`, when the caller knows it)."""
        try:
            if key is None:
                key = self.key_for(recorded, event)
            self.buffer.apply(key, recorded, event)
        except RowRefused as exc:
            if self.noted is None or key is None:
                raise self.failed(recorded, exc, key) from exc
            self.noted(self.name, recorded, key, exc)  # the row stays as the handler left it
        except Exception as exc:
            raise self.failed(recorded, exc, key) from exc
        self.applied += 1
        if self.trail is not None:
            self.trail.keyed(key, recorded)

    def fold(self, work: Sequence[tuple[RecordedEvent, Event]]) -> dict[str, RecordedEvent]:
        """Apply events in order, the stored rows they address fetched in one go first;
        the last event applied to each row, by key. Each event's handler and key function
        are looked up once per event type (`_keyed`), and `apply` runs in line: the same
        calls (key, fetch, snapshot, handler, the exact test or `Projection.kept`), rows,
        changes, counts, trail entries and errors."""
        with collector_paused():  # keys, events and rows: no cycles worth a scan
            keyed = self._keyed(work)
            self.buffer.prefetch(key for key, _, _, _ in keyed)
            return self._applied(keyed) if self.buffer.trail is not None else self._folded(keyed)

    def _folded(self, keyed: list[tuple[str, RecordedEvent, Event, Handler]],
                ) -> dict[str, RecordedEvent]:
        """`fold`'s loop, `apply` in line (its buffer records no row lineage)."""
        buffer = self.buffer
        projection, rows, changed, trail = buffer.projection, buffer.rows, buffer.changed, \
            self.trail
        model, fold_type, exact, kept = (projection.row_form == "model", projection.fold_type,
                                         projection.exact, projection.kept)
        last: dict[str, RecordedEvent] = {}
        for key, recorded, event, handler in keyed:
            try:
                row = rows[key]
                before = None if row is None else (row.__dict__ if model else row).copy()
                result = handler(row, event, recorded)
                if type(result) is fold_type and exact(result.__dict__ if model else result):
                    rows[key] = result
                    changed.add(key)
                else:
                    result = kept(row, before, result)
                    if result is not None:
                        rows[key] = None if isinstance(result, Delete) else result
                        changed.add(key)
            except RowRefused as exc:
                if self.noted is None:
                    raise self.failed(recorded, exc, key) from exc
                self.noted(self.name, recorded, key, exc)  # the row stays as the handler left it
            except Exception as exc:
                raise self.failed(recorded, exc, key) from exc
            self.applied += 1
            if trail is not None:
                trail.keyed(key, recorded)
            last[key] = recorded
        return last

    def _keyed(self, work: Sequence[tuple[RecordedEvent, Event]],
               ) -> list[tuple[str, RecordedEvent, Event, Handler]]:
        """(row key, recorded, event, handler) of each event, in order; a key function that
        raises (or an event type the projection does not handle) fails here, before any
        event is applied."""
        handlers = self.buffer.projection.handlers
        bound: dict[str, tuple[Handler, KeyFunction | None]] = {}
        keyed = []
        for recorded, event in work:
            try:
                found = bound.get(recorded.event_type)
                if found is None:
                    found = bound[recorded.event_type] = handlers[recorded.event_type]
                handler, key_fn = found
                key = recorded.aggregate_id if key_fn is None else key_fn(recorded, event)
            except Exception as exc:
                raise self.failed(recorded, exc) from exc
            keyed.append((key, recorded, event, handler))
        return keyed

    def _applied(self, keyed: list[tuple[str, RecordedEvent, Event, Handler]],
                 ) -> dict[str, RecordedEvent]:
        """`fold`'s loop through `apply` (and so `RowBuffer.apply`) event by event."""
        last: dict[str, RecordedEvent] = {}
        for key, recorded, event, _ in keyed:
            self.apply(recorded, event, key)
            last[key] = recorded
        return last

    def failed(self, recorded: RecordedEvent, exc: Exception,
               key: str | None = None) -> Exception:
        """The error to raise for `exc`, raised folding `recorded` (into row `key`)."""
        return _failure(self.name, self.on_error, self.refuse, recorded, exc, key)


def row_refused(name: str, recorded: RecordedEvent, key: str, refused: RowRefused) -> Exception:
    """A rebuild's (or verify's) error for a row it refused: projection, row, event."""
    where = (f"projection {name}, row {key!r}, on {recorded.event_type} at position "
             f"{recorded.position}")
    return DomainCodeError(where, ValueError(str(refused)))


def _failure(name: str, on_error: OnError | None, refuse: Refuse, recorded: RecordedEvent,
             exc: Exception, key: str | None) -> Exception:
    """`ProjectionRun.failed`: the error for `exc`, raised folding `recorded` into `key`."""
    if isinstance(exc, RowRefused) and key is not None:
        exc = refuse(name, recorded, key, exc)
    if on_error is not None:
        on_error(recorded, exc)
    if isinstance(exc, IncidentError):
        return exc
    return DomainCodeError(f"projection {name} on {recorded.event_type}", exc)


class SingleStep:
    """A `ProjectionRun` folding one event of one type into one stored row, compiled once
    per (projection, event type) (`single_step`) and reused by every dispatch: the same
    calls in the same order (key, fetch, `Projection.folded`, snapshot, handler, the exact
    test or `Projection.kept`, `Projection.stored`), the same errors, without a run and a
    row buffer made per event."""

    __slots__ = ("exact", "fold_type", "folded", "handler", "kept", "key_fn", "model",
                 "name", "pair", "stored")

    def __init__(self, projection: Projection[Any], event_type: str) -> None:
        self.name = projection.name
        self.pair = projection.handlers[event_type]
        self.handler, self.key_fn = self.pair
        self.model = projection.row_form == "model"
        self.fold_type, self.exact = projection.fold_type, projection.exact
        self.kept, self.folded, self.stored = projection.kept, projection.folded, projection.stored

    def fold(self, recorded: RecordedEvent, event: Event, fetch: Fetch, *,
             on_error: OnError | None, refuse: Refuse = row_refused,
             ) -> tuple[str, dict[str, Any] | Delete | None]:
        """(the row key, the row to store, DELETE, or None: unchanged)."""
        try:
            key_fn = self.key_fn
            key = recorded.aggregate_id if key_fn is None else key_fn(recorded, event)
        except Exception as exc:
            raise _failure(self.name, on_error, refuse, recorded, exc, None) from exc
        stored = fetch([key]).get(key)
        row = None if stored is None else self.folded(stored)
        model = self.model
        try:
            before = None if row is None else (row.__dict__ if model else row).copy()
            result = self.handler(row, event, recorded)
            if type(result) is not self.fold_type or not self.exact(
                    result.__dict__ if model else result):
                result = self.kept(row, before, result)
        except Exception as exc:
            raise _failure(self.name, on_error, refuse, recorded, exc, key) from exc
        if result is None or isinstance(result, Delete):
            return key, result
        return key, self.stored(result)


_SINGLE: weakref.WeakKeyDictionary[Projection[Any], dict[str, SingleStep]] = (
    weakref.WeakKeyDictionary())


def forget_steps() -> None:
    """Compile every step again when next asked for (a profiler wrapped their methods)."""
    _SINGLE.clear()


def single_step(projection: Projection[Any], event_type: str) -> SingleStep:
    """The compiled step of `projection` for events of `event_type` (made again when the
    projection's handler for it has changed)."""
    steps = _SINGLE.get(projection)
    if steps is None:
        steps = _SINGLE[projection] = {}
    step = steps.get(event_type)
    if step is None or projection.handlers.get(event_type) is not step.pair:
        step = steps[event_type] = SingleStep(projection, event_type)
    return step


class ProjectionFold:
    """Replays events into the rows of several projections.

    `until` caps a projection at a position (verify replays each projection only up to
    its checkpoint); `trails` are told the row keys of the projections they name (a
    rebuild's lineage index, see `incident_core.engine.lineage.StagedLineage`); event types the
    domain does not know are skipped, as the live projector does. `noted` (verify) is told of
    each row `feed` refuses, and the fold goes on; without it a refusal is raised.
    """

    def __init__(self, domain: Domain, projections: Sequence[Projection[Any]],
                 until: dict[str, int] | None = None, *,
                 trails: Mapping[str, KeyTrail] | None = None,
                 noted: Noted | None = None) -> None:
        self.domain = domain
        until, trails = until or {}, trails or {}
        self._routes = {p.name: ProjectionRun(p, until=until.get(p.name),
                                              trail=trails.get(p.name), noted=noted)
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
        of data the validator refuses), from its stored text when the page's events hold
        it (a store's `UndecodedEvent`, its `data_text`) and the type allows (`from_text`);
        handlers are called in line, each type's one step (most types of most folds: one
        projection, no cap, no trail) without a loop over steps (`engine.page_fold`)."""
        if not page:
            return
        with collector_paused():  # a page's events and rows hold no cycles worth a scan
            fold_page(self.domain, page,
                      page_plans(self.domain, self._by_type, hasattr(page[0], "data_text")))
