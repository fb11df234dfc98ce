"""Rebuild projections from the event log: replay in memory, then swap the rows in.

One pass: the fold records the rows' lineage as it goes, staged under another name in short
write transactions (`incident_core.engine.lineage.StagedLineage`), and holds each row to what
the store gives back as it folds it, as the live projector does (a row the table cannot hold
is refused whichever event made it). No row is written until the replay is complete, and
closing the generator half-way discards what was staged, so the store is left as it was.
Each projection is then replaced (its staged lineage promoted, and caught up with events
recorded meanwhile) in its own transaction, its rows dumped as they are written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from incident_core import telemetry
from incident_core.engine.application import Application
from incident_core.engine.lineage import StagedLineage
from incident_core.engine.projector import ProjectionFold
from incident_core.envelope import RecordedEvent
from incident_core.ports import EventFilter
from incident_core.progress import Operation, Progress

__all__ = ["ProjectionRebuilt", "RebuildReport", "rebuild"]

PAGE = 5000  # events read per query
EVERY = 2000  # events between progress reports


@dataclass(frozen=True, slots=True)
class ProjectionRebuilt:
    name: str
    rows: int
    events_applied: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "events_applied": self.events_applied}


@dataclass(frozen=True, slots=True)
class RebuildReport:
    projections: list[ProjectionRebuilt]
    head: int
    events_read: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events_read / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"projections": [p.to_json() for p in self.projections], "head": self.head,
                "events_read": self.events_read, "seconds": round(self.seconds, 3),
                "events_per_second": round(self.events_per_second)}


@telemetry.operation("incident.rebuild", telemetry.rebuilt)
def rebuild(app: Application, names: Sequence[str]) -> Operation[RebuildReport]:
    """Replay the log up to the current head into the named projections, then replace
    their rows. Raises UnknownProjection before reading anything."""
    projections = [app.projection(name) for name in dict.fromkeys(names)]
    started = time.perf_counter()
    head = app.store.head()
    staged = StagedLineage(app, projections)
    try:
        fold = ProjectionFold(app.domain, projections, trails=staged.trails)
        read = yield from _replay(app, fold, staged, head)
        yield Progress(head, head, "writing rows")
        report = [_swap(app, fold, projection.name, head) for projection in projections]
    except BaseException:  # closed or failed half-way: no staged lineage is left behind
        staged.discard()
        raise
    return RebuildReport(report, head, read, time.perf_counter() - started)


def _swap(app: Application, fold: ProjectionFold, name: str, head: int) -> ProjectionRebuilt:
    """Replace one projection's rows (its staged lineage promoted), in one transaction.
    Each row is dumped as the store takes it in (in batches), not all of them first: the
    folded rows are the only copy held (every one was checked as it was folded)."""
    counted = _Counted(fold.rows(name))
    app.replace_projection(name, counted, head, lineage_staged=True)
    return ProjectionRebuilt(name, counted.count, fold.applied(name))


class _Counted:
    """Rows passed on one by one, counted."""

    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            self.count += 1
            yield row


def _replay(app: Application, fold: ProjectionFold, staged: StagedLineage,
            head: int) -> Operation[int]:
    """Fold the events up to `head` (lineage staged as it goes); the number read."""
    read = 0
    feed = fold.feed_page
    yield Progress(0, head, "replaying events")
    for page in handled_pages(app, fold.event_types, head):
        for start in range(0, len(page), EVERY):
            chunk = page[start:start + EVERY]
            feed(chunk)
            read += len(chunk)
            yield Progress(chunk[-1].position, head, "replaying events")
        if staged.due():
            staged.flush()
    staged.flush()
    return read


def handled_pages(app: Application, event_types: tuple[str, ...],
                  head: int) -> Iterator[list[RecordedEvent]]:
    """Pages of the events (up to `head`) of the given types, in position order. Each page
    is a bounded position range, scanned in order: by the store's lean replay read (no
    metadata, collector paused; the data left as stored text for the fold to decode where
    the store can: `iter_undecoded_events`; a page whose events are all wanted passed on
    as it is) while at least half of the previous range's events were wanted (and for the
    first range), else by its filtered read."""
    if not event_types:
        return
    wanted, types = EventFilter(event_types=event_types), frozenset(event_types)
    pages = app.store.iter_undecoded_events
    after, lean = 0, True
    while after < head:
        up_to = min(head, after + PAGE)
        if lean:  # one batch: PAGE + 1 rows are more than a range of PAGE positions holds
            batches = list(pages(after_position=after, up_to=up_to, batch_size=PAGE + 1))
            page = batches[0] if len(batches) == 1 else [e for b in batches for e in b]
            if not types.issuperset(map(_type_of, page)):
                page = [e for e in page if e.event_type in types]
        else:
            page = app.store.read_events(after_position=after, before_position=up_to + 1,
                                         filter=wanted)
        lean = 2 * len(page) >= up_to - after
        if page:
            yield page
        after = up_to


_type_of = attrgetter("event_type")
