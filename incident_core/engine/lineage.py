"""Row lineage, derived from the log: which events changed a projection row, with the row's
values before and after each.

A row's history is a pure function of the log: a handler gets `(row, event, recorded)` for
the row its key picks, so the row's values after each event are what folding only the
events keyed to that row, in position order, from an absent row, gives. So nothing but
*which* events a row got is needed, and values are recomputed on read:

* events keyed by the aggregate id (the default) are the events of stream `key` of the
  types the projection handles that way: found by the log's stream index, nothing stored;
* events of handlers with a custom key (`Projection.on(..., key=fn)`) are listed in the
  store's narrow lineage index, (projection, row key, position), written with the rows in
  the same transaction (`IndexTrail`; `EventStore.lineage_events` reads them back).

A projection's index is complete only from the position the store says
(`EventStore.lineage_start`: a projection whose lineage was off for a while, then on, is
complete only from where it was switched on); a history that would need earlier custom-key
events is refused (`LineageIncomplete`), never folded from a wrong start. A rebuild writes
the index again in its one pass (`StagedLineage`, promoted in the swap), complete from 0.
A projection opts out with `Projection(..., lineage=False)`: its history is empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from incident_core.errors import IncidentError
from incident_core.ports.values import LineageEntry
from incident_core.values import aggregate_key

if TYPE_CHECKING:
    from uuid import UUID

    from incident_core.domain import Domain
    from incident_core.envelope import RecordedEvent
    from incident_core.ports import EventStore, StoreTransaction
    from incident_core.projections.definition import Projection

__all__ = ["IndexTrail", "LineageIncomplete", "LineageQueries", "LineageTrail",
           "StagedLineage", "custom_types", "findings", "indexed", "promote", "stage", "trail_of",
           "written"]

_dumps = json.JSONEncoder(separators=(",", ":"), default=str, sort_keys=True).encode
REWRITE_PAGE = 5000  # events read per query while rewriting a projection's index


def custom_types(projection: Projection[Any]) -> frozenset[str]:
    """The event types a projection keys with a key function of its own."""
    return frozenset(name for name, (_, key) in projection.handlers.items() if key is not None)


def indexed(projection: Projection[Any]) -> bool:
    """Whether a projection's lineage needs index entries (lineage on, custom keys)."""
    return projection.lineage and bool(custom_types(projection))


class IndexTrail:
    """Collects the lineage index entries of one projection while a `ProjectionRun` folds:
    (projection, row key, position) for each applied event of a custom-key type."""

    __slots__ = ("custom", "entries", "projection")

    def __init__(self, projection: Projection[Any], name: str | None = None) -> None:
        self.projection = projection.name if name is None else name
        self.custom = custom_types(projection)
        self.entries: list[tuple[str, str, int]] = []

    def keyed(self, key: str, recorded: RecordedEvent) -> None:
        if recorded.event_type in self.custom:
            self.entries.append((self.projection, key, recorded.position))

    def take(self) -> list[tuple[str, str, int]]:
        out, self.entries = self.entries, []
        return out


def trail_of(projection: Projection[Any]) -> IndexTrail | None:
    """The trail a projector's write keeps for a custom-key projection (see `written`)."""
    return IndexTrail(projection) if custom_types(projection) else None


def written(tx: StoreTransaction, projection: Projection[Any], trail: IndexTrail | None) -> None:
    """In the write transaction that folded `trail`: the index entries when the projection's
    lineage is on. When it is off and custom-key events were applied, the index is marked
    not complete in the same transaction, at each such commit: another process running the
    projection with its lineage on may have marked it complete since this one opened."""
    if trail is None or not trail.entries:
        return
    if projection.lineage:
        tx.record_lineage(trail.entries)
    else:
        tx.mark_lineage(projection.name, None)


class LineageTrail:
    """Collects a row's changes while a `RowBuffer` folds its events (the reading side):
    `entries` hold the position, event and values before and after as JSON text. An event
    whose handler returns the row unchanged (None, or the same values) is no change."""

    __slots__ = ("_last", "entries")

    def __init__(self) -> None:
        self._last: dict[str, str | None] = {}
        self.entries: list[tuple[str, RecordedEvent, str | None, str | None]] = []

    def before(self, key: str, row: dict[str, Any] | None) -> str | None:
        """The row's values before the next event (`row` is its dump, when not known)."""
        if key in self._last:
            return self._last[key]
        return None if row is None else _dumps(row)

    def known(self, key: str) -> bool:
        return key in self._last

    def add(self, key: str, recorded: RecordedEvent, before: str | None,
            after: dict[str, Any] | None) -> None:
        after_text = None if after is None else _dumps(after)
        self._last[key] = after_text
        if after_text != before:
            self.entries.append((key, recorded, before, after_text))


class LineageIncomplete(IncidentError):
    """A row history would need custom-key events the projection's lineage index lacks."""

    def __init__(self, projection: str, start: int | None) -> None:
        where = ("it was off" if start is None else
                 f"it is complete only after position {start}")
        super().__init__(f"the lineage of {projection} cannot give this row's history: "
                         f"{where}; `incident rebuild {projection}` records it again")


STAGING = "__lineage_rebuild"  # suffix of the name a rebuild stages its index under
FLUSH = 50000  # staged entries written per short write transaction


class StagedLineage:
    """The index a rebuild writes while it folds, kept under staging names and written in
    short write transactions (`flush`), so the swap transaction only has to `promote` it.
    Made before the fold starts: it clears what an interrupted rebuild may have left."""

    def __init__(self, app: StoreAndDomain, projections: list[Projection[Any]]) -> None:
        from incident_core.engine.parking import write_guard

        self._store = app.store
        self.trails = {p.name: IndexTrail(p, p.name + STAGING) for p in projections
                       if indexed(p)}
        with write_guard(), self._store.transaction() as tx:
            for projection in projections:
                tx.clear_lineage(projection.name + STAGING)

    def due(self) -> bool:
        return sum(len(trail.entries) for trail in self.trails.values()) >= FLUSH

    def flush(self) -> None:
        """Write the entries collected since the last flush, in one write transaction."""
        from incident_core.engine.parking import write_guard

        entries = [e for trail in self.trails.values() for e in trail.take()]
        if entries:
            with write_guard(), self._store.transaction() as tx:
                tx.record_lineage(entries)

    def discard(self) -> None:
        """Forget what was staged and not promoted (the rebuild was abandoned). Best
        effort: a store that refuses leaves it for the next rebuild, which clears it."""
        from incident_core.engine.parking import write_guard

        for trail in self.trails.values():
            trail.take()
        with suppress(IncidentError), write_guard(), self._store.transaction() as tx:
            for trail in self.trails.values():
                tx.clear_lineage(trail.projection)


def stage(app: StoreAndDomain, projection: Projection[Any], checkpoint: int) -> None:
    """Before a swap whose rows were folded without lineage (a shadow rebuild's): key the
    projection's custom-key events up to `checkpoint` into a staged index. The rebuild
    operation stages while it folds, in its one pass, instead."""
    from incident_core.engine.decoder import decode

    staged = StagedLineage(app, [projection])
    trail = staged.trails.get(projection.name)
    if trail is None:
        return
    knows = app.domain.knows_event
    for page in _pages(app.store, sorted(trail.custom), checkpoint):
        for recorded in page:
            if knows(recorded.event_type):
                trail.keyed(projection.key_for(recorded, decode(app.domain, recorded)),
                            recorded)
        if staged.due():
            staged.flush()
    staged.flush()


def promote(tx: StoreTransaction, projection: Projection[Any]) -> None:
    """In the swap transaction: the staged index replaces the projection's (complete from
    the start: the rebuild keyed every event)."""
    tx.clear_lineage(projection.name)
    tx.rename_lineage(projection.name + STAGING, projection.name)
    tx.mark_lineage(projection.name, 0 if projection.lineage else None)


def mark(tx: StoreTransaction, projection: Projection[Any]) -> None:
    """On a writable open: a custom-key projection whose lineage is off is marked so (its
    index stops being complete); one whose lineage is on and unmarked is complete from its
    checkpoint (the events before were projected without an index, or not at all)."""
    if custom_types(projection):
        checkpoint = tx.checkpoint(projection.name) or 0
        tx.mark_lineage(projection.name, checkpoint if projection.lineage else None)


def _pages(store: EventStore, types: list[str],
           checkpoint: int) -> Iterator[list[RecordedEvent]]:
    from incident_core.ports import EventFilter

    wanted = EventFilter(event_types=tuple(types))
    after = 0
    while types and after < checkpoint:
        page = store.read_events(after_position=after, before_position=checkpoint + 1,
                                 limit=REWRITE_PAGE, filter=wanted)
        if not page:
            return
        yield page
        after = page[-1].position


def findings(store: EventStore, trail: IndexTrail, checkpoint: int) -> list[str]:
    """What `verify` reports of a projection's index, given the trail of its replay up to
    `checkpoint`: each custom-key event after the index's start it does not list (entries
    beyond those are harmless: a read skips what the projection does not key there)."""
    name = trail.projection
    start = store.lineage_start(name)
    if start is None:
        return [f"projection {name}: its lineage index is not complete (lineage was off); "
                f"`incident rebuild {name}` records it again"]
    wanted: dict[str, list[int]] = {}
    for _, key, position in trail.entries:
        if position > start:
            wanted.setdefault(key, []).append(position)
    out = []
    for key, positions in sorted(wanted.items()):
        listed = {e.position for e in store.lineage_events(name, key, until=checkpoint)}
        out += [f"projection {name}: the lineage index lacks event #{p} for row {key}"
                for p in positions if p not in listed]
    return out


class StoreAndDomain(Protocol):
    """What lineage needs of an application: its store and its domain."""

    store: EventStore
    domain: Domain


class LineageQueries:
    """Mixed into Application: row history and the rows an event changed."""

    store: EventStore
    domain: Domain

    def row_history(self, projection: str, key: str | int | UUID) -> list[LineageEntry]:
        """Every change of one projection row, oldest first (see the module's docstring)."""
        if projection not in self.domain.projections:
            from incident_core.errors import UnknownProjection

            raise UnknownProjection(projection, sorted(self.domain.projections))
        return _history(self, self.domain.projections[projection], aggregate_key(key))

    def rows_changed_by(self, event: str | int) -> list[LineageEntry]:
        """The projection rows an event changed (by event id or global position)."""
        from incident_core.engine.decoder import decode

        if isinstance(event, int):
            page = self.store.read_events(after_position=event - 1, limit=1)
            found = page[0] if page and page[0].position == event else None
        else:
            found = self.store.get_event(event)
            if found is None:
                raise IncidentError(f"no event with id {event!r}")
        if found is None or not self.domain.knows_event(found.event_type):
            return []
        decoded = decode(self.domain, found)
        out: list[LineageEntry] = []
        for name in sorted(self.domain.projections):
            projection = self.domain.projections[name]
            if projection.lineage and projection.handles(found.event_type):
                key = projection.key_for(found, decoded)
                out += _history(self, projection, key, until=found)
        return out


def _history(app: StoreAndDomain, projection: Projection[Any], key: str, *,
             until: RecordedEvent | None = None) -> list[LineageEntry]:
    """Fold the events keyed to row `key` through the projection: every change, or (with
    `until`) only the change that event made, the events before it folded untraced."""
    from incident_core.engine.decoder import decode
    from incident_core.projections.definition import RowBuffer

    if not projection.lineage:
        return []
    domain = app.domain
    trail = LineageTrail()
    buffer = RowBuffer(projection, lambda keys: {}, trail=None if until else trail)
    for recorded in _events(app, projection, key, until):
        event = decode(domain, recorded)
        if projection.key_for(recorded, event) != key:
            continue  # an index entry of another key function (a superset is harmless)
        if until is not None and recorded.position == until.position:
            buffer.trail = trail
        buffer.apply(key, recorded, event)
    return [LineageEntry(projection.name, key, r.position, r.event_id, r.event_type,
                         r.recorded_at_text, _loaded(before), _loaded(after))
            for key, r, before, after in trail.entries]


def _events(app: StoreAndDomain, projection: Projection[Any], key: str,
            until: RecordedEvent | None) -> list[RecordedEvent]:
    """The events keyed to row `key`, in position order (up to `until`): its stream's
    events of the types the projection keys by aggregate id, and what the index lists."""
    store, knows = app.store, app.domain.knows_event
    custom = custom_types(projection)
    by_default = {t for t in projection.event_type_names if t not in custom and knows(t)}
    last = None if until is None else until.position
    to = until.version if until is not None and until.aggregate_id == key else None
    found = {r.position: r for r in store.read_stream(key, to_version=to)
             if r.event_type in by_default}
    if custom:
        start = store.lineage_start(projection.name)
        if start is None or (start > 0 and _needs_before(store, custom, start)):
            raise LineageIncomplete(projection.name, start)
        found.update((r.position, r) for r in store.lineage_events(projection.name, key,
                                                                   until=last)
                     if knows(r.event_type))
    return [found[p] for p in sorted(found) if last is None or p <= last]


def _needs_before(store: EventStore, custom: frozenset[str], start: int) -> bool:
    """Whether any custom-key event lies at or before `start` (the index may lack it)."""
    from incident_core.ports import EventFilter

    first = store.read_events(limit=1, filter=EventFilter(event_types=tuple(custom)))
    return bool(first) and first[0].position <= start


def _loaded(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))
