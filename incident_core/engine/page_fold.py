"""A page of recorded events folded into several projections' rows in one loop: the hot
path of `ProjectionFold.feed_page` (a rebuild's, verify's and an as-of query's fold).

The fold is bound once per page (`page_plans`): for each event type some projection takes,
how its events are decoded and each projection's step (handler, key function, rows, row
truth test). A type one projection takes with no cap and no trail (most types of most
folds) has its one step folded in line (`fold_page`), without a loop over steps; any other
goes through `_steps`. Either gives the rows, counts, trail entries and errors that
`ProjectionRun.apply` gives, event by event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from incident_core.domain import Domain
from incident_core.engine.decoder import decode, from_text
from incident_core.engine.immutable import frozen
from incident_core.envelope import RecordedEvent
from incident_core.messages import Event
from incident_core.projections.definition import Delete, RowBuffer

__all__ = ["FoldRun", "KeyTrail", "Plan", "fold_page", "page_plans"]


class KeyTrail(Protocol):
    """Told the row key of each event a `ProjectionRun` applies (the engine's
    `incident_core.engine.lineage.IndexTrail` keeps the lineage index's entries)."""

    def keyed(self, key: str, recorded: RecordedEvent) -> None: ...


class FoldRun(Protocol):
    """What a page fold uses of one projection's share (`projector.ProjectionRun`)."""

    applied: int
    until: int | None
    trail: KeyTrail | None
    buffer: RowBuffer[Any]

    def failed(self, recorded: RecordedEvent, exc: Exception,
               key: str | None = None) -> Exception: ...


def fold_page(domain: Domain, page: Sequence[RecordedEvent], plans: dict[str, Plan]) -> None:
    """Fold each event of `page` whose type has a plan, in order (see the module)."""
    get = plans.get
    for recorded in page:
        plan = get(recorded.event_type)
        if plan is None:
            continue
        parse, validate, version, one, steps = plan
        try:
            if recorded.schema_version != version:
                raise _Upcast  # or a changeable event: `decode`'s copy
            if parse is not None and (text := recorded.data_text):  # type: ignore[attr-defined]
                event = parse(text)  # one parse of the text: `decoder.from_text`
            else:
                event = validate(recorded.data)
        except Exception:  # upcasters, an event without its text, or the error as
            recorded.data  # noqa: B018  `decode` words it; text that is not JSON
            event = decode(domain, recorded)  # fails as a read of it does
        if one is None:
            _steps(domain, recorded, event, steps)
            continue
        run, handler, key_fn, rows, model, fold_type, exact, kept = one
        key = None
        try:
            key = recorded.aggregate_id if key_fn is None else key_fn(recorded, event)
            row = rows.get(key, _ABSENT)
            if row is _ABSENT:
                run.buffer.prefetch([key])
                row = rows[key]
            # `Projection.apply` in line: a snapshot before, the result checked after
            before = None if row is None else (row.__dict__ if model else row).copy()
            result = handler(row, event, recorded)
            if type(result) is fold_type and exact(result.__dict__ if model else result):
                rows[key] = result
            else:
                result = kept(row, before, result)
                if result is not None:
                    rows[key] = None if isinstance(result, Delete) else result
        except Exception as exc:
            raise run.failed(recorded, exc, key) from exc
        run.applied += 1


def _steps(domain: Domain, recorded: RecordedEvent, event: Event,
           steps: tuple[Step, ...]) -> None:
    """`fold_page` for an event of a type several projections take, or one capped
    (`until`) or trailed (lineage)."""
    for (run, handler, key_fn, rows, model, fold_type, exact, kept, until, trail,
         fresh) in steps:
        if until is not None and recorded.position > until:
            continue
        key = None
        try:
            if fresh:  # a changeable event: each projection after the first its own
                event = decode(domain, recorded)
            key = recorded.aggregate_id if key_fn is None else key_fn(recorded, event)
            row = rows.get(key, _ABSENT)
            if row is _ABSENT:
                run.buffer.prefetch([key])
                row = rows[key]
            before = None if row is None else (row.__dict__ if model else row).copy()
            result = handler(row, event, recorded)
            if type(result) is fold_type and exact(result.__dict__ if model else result):
                rows[key] = result
            else:
                result = kept(row, before, result)
                if result is not None:
                    rows[key] = None if isinstance(result, Delete) else result
        except Exception as exc:
            raise run.failed(recorded, exc, key) from exc
        run.applied += 1
        if trail is not None:
            trail.keyed(key, recorded)


def page_plans(domain: Domain, by_type: Mapping[str, Sequence[FoldRun]],
               texts: bool) -> dict[str, Plan]:
    """By event type (`Plan`): its validator from stored text (`from_text`; None when the
    type does not allow it or the page's events hold no text), its validator, the schema
    version it decodes by them (None for a changeable event: `decode` makes each
    projection its own), and its steps: the one step when a single projection takes it
    with no cap and no trail, else None; and each projection's `Step`."""
    plans: dict[str, Plan] = {}
    for event_type, runs in by_type.items():
        etype = domain.event_types[event_type]
        shared = frozen(etype)
        steps = tuple(_step(run, event_type, bool(number) and not shared)
                      for number, run in enumerate(runs))
        single = len(runs) == 1 and runs[0].until is None and runs[0].trail is None
        plans[event_type] = (from_text(domain, event_type) if texts else None,
                             etype.__pydantic_validator__.validate_python,
                             etype.schema_version if shared else None,
                             steps[0][:8] if single else None, steps)
    return plans


def _step(run: FoldRun, event_type: str, fresh: bool) -> Step:
    """A projection's step for an event type: its run with its handler, key function and
    rows, whether rows are models, the type of a row kept as it is when its values pass the
    test, what keeps any other result (`Projection.fold_type`, `Projection.exact`,
    `Projection.kept`), its last position, its trail, and whether it decodes the event
    again (a changeable event, after the first projection)."""
    projection = run.buffer.projection
    handler, key_fn = projection.handlers[event_type]
    return (run, handler, key_fn, run.buffer.rows, projection.row_form == "model",
            projection.fold_type, projection.exact, projection.kept, run.until, run.trail,
            fresh)


class _Upcast(Exception):
    """An event stored at another schema version (or of a changeable type): decoded by
    `decode`."""


_ABSENT: Any = object()
_Handler = Callable[[Any, Event, RecordedEvent], Any]
Step = tuple[FoldRun, _Handler, Callable[[RecordedEvent, Any], str] | None,
             dict[str, Any], bool, type[Any], Callable[[dict[str, Any]], bool],
             Callable[[Any, dict[str, Any] | None, Any], Any], int | None,
             KeyTrail | None, bool]
Plan = tuple[Callable[[str], Event] | None, Callable[[Any], Event], int | None,
             tuple[Any, ...] | None, tuple[Step, ...]]
