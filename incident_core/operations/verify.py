"""Check a store against its own log: streams, versions, decoding, projections.

Read-only. One pass over the log (up to the head when the check starts) checks that
positions increase, that every stream's versions run 1, 2, 3… under one aggregate type the
domain knows, and that every event decodes; it also replays each projection up to its
checkpoint (a row the replay itself refuses, one the table cannot hold or one a handler
changed in place, is a finding naming projection, row, event and column; the rest goes on,
and that row is not compared). Then the streams table and the stored projection rows are
compared with what the pass found. Writers may keep working meanwhile: streams they moved
on are not compared, and a projection whose checkpoint moved during the check is reported
as skipped, not as wrong.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from incident_core.domain import Domain, Event
from incident_core.engine import aggregate_snapshots
from incident_core.engine.application import Application, DomainCodeError
from incident_core.engine.binding import stale_message, stale_projections
from incident_core.engine.decoder import decode
from incident_core.engine.lineage import IndexTrail, findings, indexed
from incident_core.engine.projector import ProjectionFold
from incident_core.envelope import RecordedEvent
from incident_core.operations.careful import Unreadable, careful_pages, file_findings, malformed
from incident_core.ports import EventStore
from incident_core.progress import Operation, Progress
from incident_core.projections.definition import Projection, RowRefused, normalise_row
from incident_core.store.sql.integrity import checksum_findings

__all__ = ["VerifyReport", "verify"]

PAGE = 5000
MAX_LINES = 1000  # mismatches listed in full; the rest are only counted


@dataclass(slots=True)
class VerifyReport:
    events: int = 0
    streams: int = 0
    projections: dict[str, int] = field(default_factory=dict)  # name -> rows compared
    mismatches: list[str] = field(default_factory=list)
    mismatch_count: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.mismatch_count == 0

    def add(self, line: str) -> None:
        self.mismatch_count += 1
        if len(self.mismatches) < MAX_LINES:
            self.mismatches.append(line)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "streams": self.streams,
                "projections": dict(self.projections), "mismatch_count": self.mismatch_count,
                "mismatches": list(self.mismatches), "skipped": list(self.skipped),
                "seconds": round(self.seconds, 3)}


@dataclass(slots=True)
class _Seen:
    """What the log says about one stream."""

    aggregate_type: str
    version: int
    event_count: int
    last_recorded_at: str
    last_position: int


class _LogCheck:
    """The per-event checks of the single pass over the log."""

    def __init__(self, domain: Domain, report: VerifyReport) -> None:
        self.domain = domain
        self.report = report
        self.streams: dict[str, _Seen] = {}
        self.last_position = 0
        self._events_of: dict[str, frozenset[str] | None] = {}

    def _aggregate_events(self, aggregate_type: str) -> frozenset[str] | None:
        if aggregate_type not in self._events_of:
            aggregate = self.domain.aggregate_named(aggregate_type)
            self._events_of[aggregate_type] = None if aggregate is None else frozenset(
                e.__name__ for e in aggregate.event_types)
        return self._events_of[aggregate_type]

    def check(self, recorded: RecordedEvent) -> Event | None:
        """Check one event; return it decoded, or None if it does not decode."""
        where = f"event #{recorded.position} ({recorded.aggregate_id} v{recorded.version})"
        if recorded.position <= self.last_position:
            self.report.add(f"{where}: position does not increase "
                            f"(after #{self.last_position})")
        self.last_position = max(self.last_position, recorded.position)
        self._check_stream(recorded, where)
        return self._decode(recorded, where)

    def _check_stream(self, recorded: RecordedEvent, where: str) -> None:
        seen = self.streams.get(recorded.aggregate_id)
        expected = 1 if seen is None else seen.version + 1
        if recorded.version != expected:
            self.report.add(f"{where}: version {recorded.version} where {expected} "
                            "was expected")
        if seen is None:
            self.streams[recorded.aggregate_id] = _Seen(
                recorded.aggregate_type, recorded.version, 1, recorded.recorded_at_text,
                recorded.position)
            return
        if recorded.aggregate_type != seen.aggregate_type:
            self.report.add(f"{where}: aggregate type {recorded.aggregate_type} in a "
                            f"{seen.aggregate_type} stream")
        seen.version = recorded.version
        seen.event_count += 1
        seen.last_recorded_at = recorded.recorded_at_text
        seen.last_position = recorded.position

    def _decode(self, recorded: RecordedEvent, where: str) -> Event | None:
        kinds = self._aggregate_events(recorded.aggregate_type)
        if kinds is None:
            self.report.add(f"{where}: aggregate type {recorded.aggregate_type!r} is not "
                            f"part of the domain {self.domain.name!r}")
        elif recorded.event_type not in kinds:
            self.report.add(f"{where}: {recorded.event_type} is not an event of "
                            f"{recorded.aggregate_type}")
        if not self.domain.knows_event(recorded.event_type):
            self.report.add(f"{where}: event type {recorded.event_type!r} is unknown to "
                            f"the domain {self.domain.name!r}")
            return None
        try:
            return decode(self.domain, recorded)
        except Exception as exc:  # data that does not decode: a finding
            self.report.add(f"{where}: {recorded.event_type} does not decode: "
                            f"{_explain(getattr(exc, 'original', exc))}")
            return None


def verify(app: Application, *, deep: bool = False) -> Operation[VerifyReport]:
    """Check the store; the report lists every mismatch as a readable line. Damage is a
    mismatch too (rows that cannot be read, a damaged SQLite file); `deep` also runs
    SQLite's own integrity check of every page."""
    started = time.perf_counter()
    store, domain = app.store, app.domain
    report = VerifyReport()
    for line in file_findings(store, deep=deep) or ():
        report.add(line)
    checkpoints = store.checkpoints()
    built = _built_projections(store, domain, checkpoints, report)
    head = store.head()
    trails = {p.name: IndexTrail(p) for p in built if indexed(p)}  # the lineage index
    refused = _Refusals(report)
    fold = ProjectionFold(domain, built, until={p.name: checkpoints[p.name] for p in built},
                          trails=trails, noted=refused.note)
    log = _LogCheck(domain, report)
    yield from _read_the_log(store, head, log, fold, report)
    yield Progress(head, head, "comparing streams")
    _guarded(report, "the streams table", _compare_streams, store, log.streams, head, report)
    _guarded(report, "the aggregate snapshots", _check_snapshots, store, domain, report)
    for projection in built:
        yield Progress(head, head, f"comparing {projection.name}")
        _guarded(report, f"projection {projection.name}", _compare_projection, store,
                 projection, fold, checkpoints[projection.name], report,
                 refused.keys.get(projection.name, set()))
        if projection.name in trails:
            _guarded(report, f"the lineage of {projection.name}", _compare_lineage, store,
                     trails[projection.name], checkpoints[projection.name], report)
    _guarded(report, "the event checksums", _check_checksums, store, head, report)
    report.seconds = time.perf_counter() - started
    return report


class _Refusals:
    """Rows the replay itself refuses (a handler's row the table cannot hold, or a row
    changed in place): each a finding; the fold goes on, and such a row is not compared."""

    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        self.keys: dict[str, set[str]] = {}

    def note(self, name: str, recorded: RecordedEvent, key: str, refused: RowRefused) -> None:
        self.keys.setdefault(name, set()).add(key)
        self.report.add(f"projection {name}: row {key!r}, on {recorded.event_type} at "
                        f"event #{recorded.position}: the replay refuses column "
                        f"{refused.column}: {refused.problem} (the row is not compared)")


def _built_projections(store: EventStore, domain: Domain, checkpoints: dict[str, int],
                       report: VerifyReport) -> list[Projection[Any]]:
    """The projections whose stored rows can be compared with a replay; the others are
    findings (not built, or their tables no longer fit the model)."""
    projections = list(domain.projections.values())
    stale = set(stale_projections(store, domain))
    for projection in projections:
        if projection.name in stale:
            report.add(stale_message(projection.name))
        elif projection.name not in checkpoints:
            report.add(f"projection {projection.name}: not built in this store "
                       f"(run `incident rebuild {projection.name}`)")
    return [p for p in projections if p.name in checkpoints and p.name not in stale]


def _read_the_log(store: EventStore, head: int, log: _LogCheck, fold: ProjectionFold,
                  report: VerifyReport) -> Operation[None]:
    """The one pass over the log up to `head`: every event checked, and fed to the fold."""
    yield Progress(0, head, "reading the log")
    for page in careful_pages(store, up_to=head, batch_size=PAGE):
        if isinstance(page, Unreadable):
            report.add(str(page))
            continue
        for recorded in page:
            problem = malformed(recorded)
            if problem is not None:
                report.add(f"event #{recorded.position} is malformed: {problem}")
                continue
            event = log.check(recorded)
            if event is not None:
                fold.feed(recorded, event)
        report.events += len(page)
        yield Progress(page[-1].position, head, "reading the log")


def _check_snapshots(store: EventStore, domain: Domain, report: VerifyReport) -> None:
    for line in aggregate_snapshots.mismatches(store, domain):  # snapshot == replay
        report.add(line)


def _check_checksums(store: EventStore, head: int, report: VerifyReport) -> None:
    for line in checksum_findings(store, head):  # schema 3: every event's checksum
        report.add(line)


def _guarded(report: VerifyReport, what: str, check: Callable[..., None], *args: Any) -> None:
    """Run one comparison; a table too damaged to read is a finding, not a crash."""
    try:
        check(*args)
    except DomainCodeError:
        raise
    except Exception as exc:  # whatever a damaged table raises
        report.add(f"{what} cannot be read: {_explain(exc)}")


def _all_streams(store: EventStore) -> Iterator[Any]:
    after: str | None = None
    while page := store.streams(after_id=after, limit=PAGE):
        yield from page
        after = page[-1].aggregate_id


def _compare_streams(store: EventStore, seen: dict[str, _Seen], head: int,
                     report: VerifyReport) -> None:
    listed: set[str] = set()
    for info in _all_streams(store):
        listed.add(info.aggregate_id)
        if info.last_position > head:
            continue  # a writer moved it on after the pass began
        report.streams += 1
        log = seen.get(info.aggregate_id)
        if log is None:
            report.add(f"stream {info.aggregate_id}: listed in the streams table but has "
                       "no events")
            continue
        stored = (info.aggregate_type, info.version, info.event_count, info.last_recorded_at,
                  info.last_position)
        actual = (log.aggregate_type, log.version, log.event_count, log.last_recorded_at,
                  log.last_position)
        names = ("aggregate_type", "version", "event_count", "last_recorded_at",
                 "last_position")
        for name, was, should in zip(names, stored, actual, strict=True):
            if was != should:
                report.add(f"stream {info.aggregate_id}: streams table says {name} "
                           f"{was!r}, the log says {should!r}")
    for aggregate_id in sorted(set(seen) - listed):
        report.add(f"stream {aggregate_id}: has events but is missing from the streams table")


def _compare_projection(store: EventStore, projection: Projection[Any], fold: ProjectionFold,
                        checkpoint: int, report: VerifyReport, refused: set[str]) -> None:
    spec = projection.spec
    stored = {str(r[spec.key]): normalise_row(spec, r) for r in store.projection_rows(spec)}
    if store.checkpoints().get(projection.name) != checkpoint:
        report.skipped.append(f"projection {projection.name}: changed during the check "
                              "(run verify again)")
        return
    replayed = {str(r[spec.key]): normalise_row(spec, r) for r in fold.rows(projection.name)}
    report.projections[projection.name] = len(stored)
    for key in refused:
        stored.pop(key, None)
        replayed.pop(key, None)
    where = f"projection {projection.name}"
    for key in sorted(stored.keys() - replayed.keys()):
        report.add(f"{where}: row {key} is stored but replay does not produce it")
    for key in sorted(replayed.keys() - stored.keys()):
        report.add(f"{where}: row {key} is missing (replay produces it)")
    for key in sorted(stored.keys() & replayed.keys()):
        was, should = stored[key], replayed[key]
        if was != should:
            diffs = ", ".join(f"{c} stored {was.get(c)!r}, replay {should.get(c)!r}"
                              for c in was if was.get(c) != should.get(c))
            report.add(f"{where}: row {key} differs: {diffs}")


def _compare_lineage(store: EventStore, trail: IndexTrail, checkpoint: int,
                     report: VerifyReport) -> None:
    for line in findings(store, trail, checkpoint):
        report.add(line)


def _explain(error: BaseException) -> str:
    """One line saying why data did not decode."""
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
                         for e in error.errors(include_url=False))
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
