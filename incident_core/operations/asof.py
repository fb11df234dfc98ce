"""The system as of any position: projection rows, aggregate states, streams, diffs.

Projection rows as of P are the projection's handlers folded (with the engine's own
`ProjectionFold`) over the events up to P, starting from the nearest row snapshot at or
before P. Snapshots are taken lazily, whenever an as-of query or a shadow rebuild folds
past a multiple of `CHECKPOINT_EVERY` (never on the command path), and keyed by the
projection's code signature (row model, handler code, event schema versions), so changed
code never reuses them.

Every K = 1,000 events a *delta* is kept (only the rows changed since the previous
snapshot), and a *full* snapshot every max(`FULL_EVERY`, rows/4) events starts a new
segment (see `incident_core.store.snapshots`). So an as-of folds at most K events (a few
hundred milliseconds on a busy machine) on top of one full snapshot and the deltas since
it (at most ~rows/4 events' worth of changed rows: a quarter more to decode than the full
rows at worst), and a full row dump costs at most ~4 row dumps per event folded. Bounded:
at most `MAX_SEGMENTS` (64) segments and `MAX_BYTES` (256 MB compressed) per projection.
Measured in benchmarks/bench_timetravel.py (1,005,048 bank events, 2 shared cores, load
~5): as-of of both projections at 10 random positions 0.04-0.69 s, median 0.28 s (at most
661 events replayed, up to 225k rows decoded), against 0.11-1.92 s, median 0.52-0.63 s,
for full snapshots every max(10,000, rows/8) events; snapshots 234 MB against 234 MB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import CodeType
from typing import Any

from incident_core.domain import Domain
from incident_core.engine.application import AggregateState, Application
from incident_core.engine.projector import ProjectionFold
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.operations.rowdiff import RowDiff, diff_rows, keyed_rows
from incident_core.ports import EventFilter, StreamInfo
from incident_core.projections.definition import Projection, RowBuffer
from incident_core.store.snapshots import FORMAT as SNAPSHOT_FORMAT
from incident_core.store.snapshots import Keyed, SnapshotShelf, stream_count_as_of, streams_as_of

__all__ = ["CHECKPOINT_EVERY", "InvalidMoment", "RowsAsOf", "SeededFold", "code_signature",
           "diff_positions", "handled_pages", "position_at", "resolve_moment", "rows_as_of",
           "state_as_of", "stream_count_at", "streams_at"]

CHECKPOINT_EVERY = 1_000  # events between two snapshots (a delta, or a full one)
FULL_EVERY = 20_000  # at least this many events between two full snapshots
PAGE = 5000


class InvalidMoment(IncidentError):
    """A position or time that does not name a moment of this store (CLI exit code 2)."""


def _code_parts(code: CodeType) -> Iterator[bytes]:
    yield code.co_code
    yield repr(code.co_names).encode()
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _code_parts(const)
        else:
            yield repr(const).encode()


def code_signature(app: Application, projection: Projection[Any]) -> str:
    """What the rows depend on: row model, handler and key code, event schema versions."""
    digest = hashlib.sha256((projection.spec.signature + SNAPSHOT_FORMAT).encode())
    handlers = projection.handlers  # its code is the input
    for event_type in sorted(handlers):
        handler, key_fn = handlers[event_type]
        etype = app.domain.event_types.get(event_type)
        digest.update(f"{event_type}:{getattr(etype, 'schema_version', 0)}".encode())
        for fn in (handler, key_fn):
            code = getattr(fn, "__code__", None)
            if code is not None:
                for part in _code_parts(code):
                    digest.update(part)
    return digest.hexdigest()[:16]


class SeededFold(ProjectionFold):
    """A `ProjectionFold` that starts from stored rows instead of nothing.

    The seed rows stay plain dicts (a base); only the rows events touch become row
    models (fetched from the base by the fold's `RowBuffer`), so starting from a big
    snapshot costs no validation of rows nobody touches."""

    def __init__(self, domain: Domain, projections: Sequence[Projection[Any]]) -> None:
        super().__init__(domain, projections)
        self._bases: dict[str, dict[str, dict[str, Any]]] = {}

    def seed(self, name: str, rows: Keyed) -> None:
        """Start from these rows (by key; the fold owns them from now on)."""
        self._rebase(name, rows)

    def key(self, name: str) -> str:
        return self._routes[name].buffer.projection.key

    def _rebase(self, name: str, base: dict[str, dict[str, Any]]) -> None:
        route = self._routes[name]
        self._bases[name] = base
        route.buffer = RowBuffer(route.buffer.projection,
                                 lambda keys: {k: base[k] for k in keys if k in base})

    def merged(self, name: str) -> dict[str, dict[str, Any]]:
        """Every present row by key: the base with the touched rows dumped over it."""
        buffer = self._routes[name].buffer
        out = dict(self._bases.get(name, {}))
        dump = buffer.projection.stored
        for key, row in buffer.rows.items():
            if row is None:
                out.pop(key, None)
            else:
                out[key] = dump(row)
        return out

    def advance(self, name: str) -> tuple[list[dict[str, Any]], list[str]]:
        """(rows changed, keys removed) since the last `advance`, laid over the base in
        place: the base becomes the rows now."""
        buffer = self._routes[name].buffer
        puts, deletes = buffer.changes()
        base = self._bases.setdefault(name, {})
        key = buffer.projection.key
        base.update((str(row[key]), row) for row in puts)
        for gone in deletes:
            base.pop(gone, None)
        self._rebase(name, base)
        return puts, deletes

    def settle(self, name: str) -> list[dict[str, Any]]:
        """Every row now, made the new base (so later snapshots dump only what changes)."""
        self.advance(name)
        return list(self._bases[name].values())

    def dumped(self, name: str) -> list[dict[str, Any]]:
        return list(self.merged(name).values())

    def size(self, name: str) -> int:
        return len(self._bases.get(name, {})) + len(self._routes[name].buffer.rows)


def handled_pages(app: Application, event_types: Sequence[str], after: int,
                  up_to: int) -> Iterator[list[RecordedEvent]]:
    """Keyset pages of the events of these types with after < position <= up_to."""
    if not event_types or after >= up_to:
        return
    wanted = EventFilter(event_types=tuple(event_types))
    while True:
        page = app.store.read_events(after_position=after, before_position=up_to + 1,
                                     limit=PAGE, filter=wanted)
        if page:
            yield page
        if len(page) < PAGE:
            return
        after = page[-1].position


@dataclass(frozen=True, slots=True)
class RowsAsOf:
    """One projection's rows as of `position`, and how they were made."""

    name: str
    position: int
    rows: list[dict[str, Any]]
    snapshot: int  # the snapshot position the fold started from (0: the beginning)
    replayed: int  # events folded on top of it

    def to_json(self) -> dict[str, Any]:
        return {"projection": self.name, "position": self.position, "rows": self.rows,
                "row_count": len(self.rows), "snapshot": self.snapshot,
                "replayed": self.replayed}


class Snapshotter:
    """Saves a snapshot of every projection of a fold at each multiple of K it passes: a
    delta, or a full one when the segment is long enough (or cannot be continued)."""

    def __init__(self, app: Application, fold: SeededFold, projections: Sequence[Projection[Any]],
                 start: int, every: int | None, fulls: dict[str, int] | None = None) -> None:
        self.shelf = SnapshotShelf(app.store)
        self.fold, self.every = fold, every
        self.signatures = {p.name: code_signature(app, p) for p in projections}
        self.saved = start
        self.fulls: dict[str, int | None] = {p.name: (fulls or {}).get(p.name)
                                             for p in projections}

    def passing(self, position: int) -> None:
        """Called before folding the event at `position` (all before it are folded)."""
        if self.every:
            boundary = (position - 1) // self.every * self.every
            if boundary > self.saved:
                self.save(boundary)

    def _full_due(self, name: str, boundary: int) -> bool:
        """A new segment after max(FULL_EVERY, rows/4) events: a full dump then costs at
        most ~4 row dumps per event folded since the last one."""
        full = self.fulls[name]
        return full is None or boundary - full >= max(FULL_EVERY, self.fold.size(name) // 4)

    def finish(self, position: int) -> None:
        if self.every:
            self.passing(position // self.every * self.every + 1)

    def save(self, boundary: int) -> None:
        for name, signature in self.signatures.items():
            full = self.fulls[name]
            kept = self.shelf.segment_at(name, signature, boundary)
            if kept is not None:  # made before (the same rows): continue its segment
                self.fold.advance(name)
                self.fulls[name] = kept
                continue
            if full is None or self._full_due(name, boundary):
                self.shelf.save(name, signature, boundary, self.fold.settle(name))
                self.fulls[name] = boundary
                continue
            rows, removed = self.fold.advance(name)
            if not self.shelf.save(name, signature, boundary, rows, base=full,
                                   removed=removed, previous=self.saved):
                self.fulls[name] = None  # another fold wrote here: a full one next time
        self.saved = boundary


def fold_to(app: Application, fold: SeededFold, snapper: Snapshotter, after: int,
            up_to: int) -> Iterator[int]:
    """Feed the fold the events in (after, up_to]; yield the last position of each page."""
    feed = fold.feed
    for page in handled_pages(app, fold.event_types, after, up_to):
        for recorded in page:
            snapper.passing(recorded.position)
            feed(recorded)
        yield page[-1].position
    snapper.finish(up_to)


def rows_as_of(app: Application, names: Sequence[str], position: int, *,
               every: int | None = CHECKPOINT_EVERY) -> dict[str, RowsAsOf]:
    """The rows of the named projections after every event up to `position` (use
    `every=None` for a plain replay from the beginning that neither reads nor saves
    snapshots)."""
    position = _checked(app, position)
    projections = [app.projection(n) for n in dict.fromkeys(names)]
    shelf = SnapshotShelf(app.store)
    groups: dict[int, list[tuple[Projection[Any], Keyed]]] = {}
    fulls: dict[str, int] = {}
    for projection in projections:
        found = (shelf.nearest(projection.name, code_signature(app, projection), position,
                               projection.key) if every else None)
        start, full, rows = found if found is not None else (0, 0, {})
        if found is not None:
            fulls[projection.name] = full
        groups.setdefault(start, []).append((projection, rows))
    out: dict[str, RowsAsOf] = {}
    for start, members in groups.items():
        fold = SeededFold(app.domain, [p for p, _ in members])
        for projection, rows in members:
            fold.seed(projection.name, rows)
        snapper = Snapshotter(app, fold, [p for p, _ in members], start, every, fulls)
        for _ in fold_to(app, fold, snapper, start, position):
            pass
        for projection, _ in members:
            out[projection.name] = RowsAsOf(projection.name, position,
                                            fold.dumped(projection.name), start,
                                            fold.applied(projection.name))
    return {name: out[name] for name in dict.fromkeys(names)}


def diff_positions(app: Application, name: str, first: int, second: int, *,
                   every: int | None = CHECKPOINT_EVERY) -> RowDiff:
    """Rows added, removed and changed from position `first` to position `second`."""
    spec = app.projection(name).spec
    before = rows_as_of(app, [name], first, every=every)[name].rows
    after = rows_as_of(app, [name], second, every=every)[name].rows
    return diff_rows(spec, keyed_rows(spec, before), keyed_rows(spec, after))


def state_as_of(app: Application, aggregate_id: str, position: int) -> AggregateState | None:
    """The aggregate's state after its events up to `position` (None: no stream yet)."""
    version = 0
    for recorded in app.store.read_stream(aggregate_id):
        if recorded.position > position:
            break
        version = recorded.version
    return app.state(aggregate_id, at_version=version) if version else None


def streams_at(app: Application, position: int, *, after_id: str | None = None,
               limit: int = 500, aggregate_type: str | None = None,
               pattern: str | None = None) -> list[StreamInfo]:
    """A page of the streams list as it stood after `position` (ordered by id)."""
    return streams_as_of(app.store, _checked(app, position), after_id=after_id, limit=limit,
                         aggregate_type=aggregate_type, pattern=pattern)


def stream_count_at(app: Application, position: int, *, aggregate_type: str | None = None,
                    pattern: str | None = None) -> int:
    """How many streams (the filter keeps) existed after `position`."""
    return stream_count_as_of(app.store, _checked(app, position),
                              aggregate_type=aggregate_type, pattern=pattern)


def _checked(app: Application, position: int) -> int:
    head = app.store.head()
    if position < 0 or position > head:
        raise InvalidMoment(f"position {position} is not in this store (head is {head})")
    return position


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidMoment(f"{text!r} is neither a position nor an ISO-8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def position_at(app: Application, moment: datetime) -> int:
    """The last position recorded at or before `moment` (0: before the first event).
    A binary search over positions (primary-key reads), as recording times follow
    positions in a store written by this engine."""
    low, high = 0, app.store.head()
    while low < high:
        mid = (low + high + 1) // 2
        found = app.store.read_events(after_position=mid - 1, limit=1)
        if found and found[0].recorded_at <= moment:
            low = mid
        else:
            high = mid - 1
    return low


def resolve_moment(app: Application, text: str) -> int:
    """A position given as a number, or the last position at or before an ISO time."""
    if text.strip().isdigit():
        return _checked(app, int(text))
    return position_at(app, _parse_time(text))
