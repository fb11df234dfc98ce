"""Row lineage: which event changed which projection row, with the row's values before and
after. Recorded by the projector in the same transaction as the rows (so it is exact);
a projection opts out with `Projection(..., lineage=False)`.

A rebuild replaces a projection's rows in one transaction. The rebuild's fold records the
lineage of every row change as it goes (the same `ProjectionRun`s the live projector uses, so
the same entries), staged under another name in short write transactions (`StagedLineage`);
the swap transaction `promote`s it, so the projection's lineage is exactly what projecting
the log event by event records (and the events after the checkpoint are projected, with
their lineage, in that same transaction). A swap of rows folded without lineage (a shadow
rebuild's) `stage`s it first by replaying the projection's events.
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

__all__ = ["LineageQueries", "LineageTrail", "StagedLineage", "promote", "stage"]

_dumps = json.JSONEncoder(separators=(",", ":"), default=str, sort_keys=True).encode
REWRITE_PAGE = 5000  # events read per query while rewriting a projection's lineage


class LineageTrail:
    """Collects a projection's row changes while a `RowBuffer` folds events. `entries` are
    the records to store: projection, position, row_key, event_id, values_before and
    values_after (JSON text, or None), and the event's version and recorded_at text."""

    __slots__ = ("_last", "entries", "projection")

    def __init__(self, projection: str) -> None:
        self.projection = projection
        self._last: dict[str, str | None] = {}
        self.entries: list[dict[str, Any]] = []

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
        if after_text == before:
            return  # the handler returned the row unchanged: not a change
        self.entries.append({
            "projection": self.projection, "position": recorded.position, "row_key": key,
            "event_id": recorded.event_id, "values_before": before,
            "values_after": after_text,
            # what a store may derive stored values from (see store.sql.lineage_format)
            "version": recorded.version, "recorded_at": recorded.recorded_at_text})

    def take(self) -> list[dict[str, Any]]:
        out, self.entries = self.entries, []
        return out


STAGING = "__lineage_rebuild"  # suffix of the name a rebuild stages its lineage under
FLUSH = 20000  # staged entries written per short write transaction


class StagedLineage:
    """The lineage a rebuild records while it folds, kept under staging names and written
    in short write transactions (`flush`, every FLUSH entries or so), so the swap
    transaction only has to `promote` it (other writers wait seconds, not minutes).
    Made before the fold starts: it clears what an interrupted rebuild may have left."""

    def __init__(self, app: StoreAndDomain, projections: list[Projection[Any]]) -> None:
        from incident_core.engine.parking import write_guard

        self._store = app.store
        self.trails = {p.name: LineageTrail(p.name + STAGING) for p in projections
                       if p.lineage}
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
    """Before a swap whose rows were folded without lineage (a shadow rebuild's): replay
    the projection's events up to `checkpoint` into staged lineage (see `StagedLineage`).
    The rebuild operation stages while it folds, in its one pass, instead."""
    from incident_core.engine.decoder import decode
    from incident_core.engine.projector import ProjectionRun

    staged = StagedLineage(app, [projection])
    trail = staged.trails.get(projection.name)
    if trail is None:
        return
    run = ProjectionRun(projection, trail=trail)
    knows = app.domain.knows_event
    for page in _pages(app.store, projection, checkpoint):
        for recorded in page:
            if knows(recorded.event_type):
                run.apply(recorded, decode(app.domain, recorded))
        if staged.due():
            staged.flush()
    staged.flush()


def promote(tx: StoreTransaction, projection: Projection[Any]) -> None:
    """In the swap transaction: the staged lineage replaces the projection's."""
    tx.clear_lineage(projection.name)
    if projection.lineage:
        tx.rename_lineage(projection.name + STAGING, projection.name)


def _pages(store: EventStore, projection: Projection[Any],
           checkpoint: int) -> Iterator[list[RecordedEvent]]:
    from incident_core.ports import EventFilter

    types = tuple(projection.event_type_names)
    wanted = EventFilter(event_types=types)
    after = 0
    while types and after < checkpoint:
        page = store.read_events(after_position=after, before_position=checkpoint + 1,
                                 limit=REWRITE_PAGE, filter=wanted)
        if not page:
            return
        yield page
        after = page[-1].position


class StoreAndDomain(Protocol):
    """What lineage needs of an application: its store and its domain."""

    store: EventStore
    domain: Domain


class LineageQueries:
    """Mixed into Application: row history and the rows an event changed."""

    store: EventStore
    domain: Domain

    def row_history(self, projection: str, key: str | int | UUID) -> list[LineageEntry]:
        """Every recorded change of one projection row, oldest first."""
        if projection not in self.domain.projections:
            from incident_core.errors import UnknownProjection

            raise UnknownProjection(projection, sorted(self.domain.projections))
        return self.store.row_history(projection, aggregate_key(key))

    def rows_changed_by(self, event: str | int) -> list[LineageEntry]:
        """The projection rows an event changed (by event id or global position)."""
        if isinstance(event, int):
            position = event
        else:
            found = self.store.get_event(event)
            if found is None:
                raise IncidentError(f"no event with id {event!r}")
            position = found.position
        return self.store.rows_changed_at(position, projections=sorted(self.domain.projections))
