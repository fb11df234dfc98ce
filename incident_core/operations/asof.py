"""The system as of any position: projection rows, aggregate states, streams, diffs.

Projection rows as of P are the projection's handlers folded (with the engine's own
`ProjectionFold`) over the events up to P, starting from the nearest row snapshot at or
before P. Snapshots are taken every `CHECKPOINT_EVERY` events, lazily: whenever an as-of
query or a shadow rebuild folds past a multiple of it (never on the command path). They are
keyed by the projection's code signature (row model, handler code, event schema versions),
so changed code never reuses them; at most `MAX_SNAPSHOTS` are kept per projection.

Why K = 10,000, spaced to max(K, rows/8): the fold runs at 10-25k events/s on a busy
machine, so a small projection replays under ~0.5 s on top of a snapshot; for a projection
with many rows, dumping every row each K events would cost more than the fold itself, so
snapshots are spaced by an eighth of the rows (at most ~8 row dumps per event folded).
Bounded: at most `MAX_SNAPSHOTS` (64) and `MAX_BYTES` (256 MB compressed) per projection,
thinned by dropping every other one. Measured in benchmarks/bench_timetravel.py (1M bank
events, 2 shared cores, load 5-10): as-of of both projections 0.5-1.9 s (2.5k-19k events
replayed, up to 214k rows loaded), against 12-28 s for a plain replay to the same position.
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
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.operations.replay import ProjectionFold
from incident_core.operations.rowdiff import RowDiff, diff_rows, keyed_rows
from incident_core.ports import EventFilter, StreamInfo
from incident_core.projections.definition import Projection, RowBuffer
from incident_core.store.snapshots import FORMAT as SNAPSHOT_FORMAT
from incident_core.store.snapshots import SnapshotShelf, streams_as_of

__all__ = ["CHECKPOINT_EVERY", "InvalidMoment", "RowsAsOf", "SeededFold", "code_signature",
           "diff_positions", "handled_pages", "position_at", "resolve_moment", "rows_as_of",
           "state_as_of", "streams_at"]

CHECKPOINT_EVERY = 10_000
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
    handlers = projection._handlers  # its code is the input
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

    def seed(self, name: str, rows: Sequence[dict[str, Any]]) -> None:
        key = self._routes[name].buffer.projection.key
        self._rebase(name, {str(row[key]): row for row in rows})

    def _rebase(self, name: str, base: dict[str, dict[str, Any]]) -> None:
        route = self._routes[name]
        self._bases[name] = base
        route.buffer = RowBuffer(route.buffer.projection,
                                 lambda keys: {k: base[k] for k in keys if k in base})

    def merged(self, name: str) -> dict[str, dict[str, Any]]:
        """Every present row by key: the base with the touched rows dumped over it."""
        buffer = self._routes[name].buffer
        out = dict(self._bases.get(name, {}))
        dump = buffer.projection.dump
        for key, row in buffer.rows.items():
            if row is None:
                out.pop(key, None)
            else:
                out[key] = dump(row)
        return out

    def settle(self, name: str) -> list[dict[str, Any]]:
        """The rows now, made the new base (so later snapshots dump only what changes)."""
        merged = self.merged(name)
        self._rebase(name, merged)
        return list(merged.values())

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
    """Saves a snapshot of every projection of a fold at each multiple of K it passes."""

    def __init__(self, app: Application, fold: SeededFold, projections: Sequence[Projection[Any]],
                 start: int, every: int | None) -> None:
        self.shelf = SnapshotShelf(app.store)
        self.fold, self.every = fold, every
        self.signatures = {p.name: code_signature(app, p) for p in projections}
        self.saved = start

    def passing(self, position: int) -> None:
        """Called before folding the event at `position` (all before it are folded)."""
        if self.every:
            boundary = (position - 1) // self.every * self.every
            if boundary > self.saved and boundary - self.saved >= self._interval():
                self.save(boundary)

    def _interval(self) -> int:
        """K events, or an eighth of the rows when there are more: a snapshot then costs
        at most ~8 row dumps per event folded since the last one."""
        assert self.every
        rows = max(self.fold.size(name) for name in self.signatures)
        return max(self.every, rows // 8)

    def finish(self, position: int) -> None:
        if self.every:
            self.passing(position // self.every * self.every + 1)

    def save(self, boundary: int) -> None:
        for name, signature in self.signatures.items():
            self.shelf.save(name, signature, boundary, self.fold.settle(name))
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
    groups: dict[int, list[tuple[Projection[Any], list[dict[str, Any]]]]] = {}
    for projection in projections:
        found = (shelf.nearest(projection.name, code_signature(app, projection), position)
                 if every else None)
        start, rows = found if found is not None else (0, [])
        groups.setdefault(start, []).append((projection, rows))
    out: dict[str, RowsAsOf] = {}
    for start, members in groups.items():
        fold = SeededFold(app.domain, [p for p, _ in members])
        for projection, rows in members:
            fold.seed(projection.name, rows)
        snapper = Snapshotter(app, fold, [p for p, _ in members], start, every)
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
               limit: int = 500) -> list[StreamInfo]:
    """A page of the streams list as it stood after `position`."""
    return streams_as_of(app.store, _checked(app, position), after_id=after_id, limit=limit)


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
