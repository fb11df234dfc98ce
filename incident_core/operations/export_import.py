"""Export the log as NDJSON, and import such a file into another store.

An export is one `RecordedEvent.to_json()` envelope per line, in position order, up to the
head when it starts. An import keeps each event's id, stream, version, time, data and
metadata; positions are the target's own.

Import is checked as a whole before anything is written: every line must be a well-formed
envelope of an event the domain knows and can decode; event ids must be new (in the file and
in the target); each stream's versions must continue the target's stream without a gap. Only
then are the events written, a few thousand per transaction. A file that fails the checks
therefore imports nothing. Once writing has begun, a partial import is possible only if the
writing itself fails or is stopped (a concurrent writer taking a version the check saw free,
a full disk, a kill, the operation being cancelled): the batches committed so far stay, and
each is complete and consistent. The error says how many events were imported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from incident_core.domain import Domain
from incident_core.engine.application import Application, DomainCodeError
from incident_core.envelope import format_time
from incident_core.errors import IncidentError, StoreError
from incident_core.operations.careful import Unreadable, careful_pages, malformed
from incident_core.ports import EventStore
from incident_core.progress import Operation, Progress

__all__ = ["DamagedLogError", "ImportFileError", "export_events", "import_events"]

EXPORT_PAGE = 5000
IMPORT_BATCH = 2000
LARGEST = 2**63 - 1
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_REQUIRED: dict[str, type] = {
    "event_id": str, "aggregate_id": str, "aggregate_type": str, "event_type": str,
    "version": int, "recorded_at": str, "data": dict,
}
_OPTIONAL: dict[str, type] = {
    "position": int, "schema_version": int, "metadata": dict,
}
_FIELDS = _REQUIRED | _OPTIONAL
# The store's own time format (what an export writes): kept as it is, no parse/format.
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


class ImportFileError(IncidentError):
    """A line of an import file is not an envelope this store can take (nothing written)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


class DamagedLogError(IncidentError):
    """Some events could not be read or are malformed (the export is incomplete)."""

    def __init__(self, findings: list[str], written: int) -> None:
        super().__init__(f"{len(findings)} event(s) cannot be exported (the log is damaged; "
                         "`incident verify --deep` says more)")
        self.findings = findings
        self.written = written


def export_events(store: EventStore, fp: Writer) -> Operation[int]:
    """Write every event up to the current head to `fp`, one JSON envelope per line;
    return how many were written. Raises DamagedLogError after writing every readable
    event if some could not be read."""
    head = store.head()
    written = 0
    findings: list[str] = []
    yield Progress(0, head, "exporting")
    for page in careful_pages(store, up_to=head, batch_size=EXPORT_PAGE):
        if isinstance(page, Unreadable):
            findings.append(str(page))
            continue
        lines = []
        for event in page:
            problem = malformed(event)
            if problem is None:
                lines.append(_ENCODE(event.to_json()) + "\n")
            else:
                findings.append(f"event #{event.position} is malformed: {problem}")
        fp.write("".join(lines))
        written += len(lines)
        yield Progress(page[-1].position, head, "exporting")
    if findings:
        raise DamagedLogError(findings, written)
    return written


@dataclass(slots=True)
class _Plan:
    """What the check pass learned: the lines to import and what they claim."""

    lines: list[tuple[int, str]]
    event_ids: dict[str, int]  # event id -> line number
    streams: dict[str, tuple[str, int, int]]  # aggregate id -> (type, first version, line)


def import_events(app: Application, lines: Iterable[str], *,
                  resume: bool = False) -> Operation[int]:
    """Import NDJSON envelopes (blank lines are ignored); return how many were imported.
    Raises ImportFileError (naming the line) or StoreError before writing anything. With
    `resume`, events already in the store are skipped if identical (a killed import goes
    on where it stopped); an event whose id is present with other content is an error."""
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    total = 2 * len(numbered)
    yield Progress(0, total, "checking")
    plan = _Plan(numbered, {}, {})
    checker = _Checker(app.domain, plan)
    for done, (number, line) in enumerate(numbered, start=1):
        checker.check(number, line)
        if done % IMPORT_BATCH == 0:
            yield Progress(done, total, "checking")
    if resume:
        plan = _without_present(app, plan)
    _check_against_store(app, plan)
    imported = 0
    todo = plan.lines
    for start in range(0, len(todo), IMPORT_BATCH):
        batch = [_envelope(n, json.loads(line)) for n, line in todo[start:start + IMPORT_BATCH]]
        try:
            app.import_events(batch)
        except DomainCodeError:
            raise
        except Exception as exc:
            reason = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
            raise StoreError(f"{reason} (after {imported} of {len(todo)} events were imported;"
                             " `incident import --resume FILE` goes on from there)") from exc
        imported += len(batch)
        yield Progress(len(numbered) + imported, total, "importing")
    return imported


def _check_lines(domain: Domain, numbered: list[tuple[int, str]]) -> _Plan:
    plan = _Plan(numbered, {}, {})
    checker = _Checker(domain, plan)
    for number, line in numbered:
        checker.check(number, line)
    return plan


def _without_present(app: Application, plan: _Plan) -> _Plan:
    """The plan without the events the store already holds, each checked to be identical."""
    with app.store.transaction() as tx:
        present = tx.existing_event_ids(list(plan.event_ids))
    if not present:
        return plan
    by_number = dict(plan.lines)
    for event_id in present:
        number = plan.event_ids[event_id]
        stored = app.store.get_event(event_id)
        mine = _envelope(number, json.loads(by_number[number]))
        theirs = None if stored is None else stored.to_json()
        if theirs is None or any(theirs[k] != mine[k] for k in mine):
            raise StoreError(f"line {number}: event {event_id} is already in the store with "
                             "other content; nothing was imported")
    done = {plan.event_ids[e] for e in present}
    rest = [(n, line) for n, line in plan.lines if n not in done]
    return _check_lines(app.domain, rest)


class _Checker:
    def __init__(self, domain: Domain, plan: _Plan) -> None:
        self.domain = domain
        self.plan = plan
        self._kinds: dict[str, frozenset[str] | None] = {}
        self._versions: dict[str, int] = {}

    def check(self, number: int, line: str) -> None:
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(number, f"not JSON ({exc.msg} at column {exc.colno})") from None
        envelope = _envelope(number, raw)
        self._check_identity(number, envelope)
        self._check_domain(number, envelope)

    def _check_identity(self, number: int, envelope: dict[str, Any]) -> None:
        plan = self.plan
        event_id, aggregate_id = envelope["event_id"], envelope["aggregate_id"]
        if event_id in plan.event_ids:
            raise ImportFileError(number, f"event id {event_id} already appears on line "
                                          f"{plan.event_ids[event_id]}")
        plan.event_ids[event_id] = number
        version = envelope["version"]
        known = plan.streams.get(aggregate_id)
        if known is None:
            plan.streams[aggregate_id] = (envelope["aggregate_type"], version, number)
        elif known[0] != envelope["aggregate_type"]:
            raise ImportFileError(number, f"stream {aggregate_id} is a {known[0]} (line "
                                          f"{known[2]}), not a {envelope['aggregate_type']}")
        elif version != self._versions[aggregate_id] + 1:
            raise ImportFileError(number, f"stream {aggregate_id} jumps from version "
                                          f"{self._versions[aggregate_id]} to {version}")
        self._versions[aggregate_id] = version

    def _check_domain(self, number: int, envelope: dict[str, Any]) -> None:
        aggregate_type, event_type = envelope["aggregate_type"], envelope["event_type"]
        if aggregate_type not in self._kinds:
            aggregate = self.domain.aggregate_named(aggregate_type)
            self._kinds[aggregate_type] = None if aggregate is None else frozenset(
                e.__name__ for e in aggregate.event_types)
        kinds = self._kinds[aggregate_type]
        if kinds is None:
            raise ImportFileError(number, f"aggregate type {aggregate_type!r} is not part of "
                                          f"the domain {self.domain.name!r}")
        if event_type not in kinds:
            raise ImportFileError(number, f"{event_type!r} is not an event of "
                                          f"{aggregate_type}")
        newest = self.domain.event_types[event_type].schema_version
        if envelope["schema_version"] > newest:
            raise ImportFileError(number, f"{event_type} schema version "
                                          f"{envelope['schema_version']} is newer than this "
                                          f"domain's ({newest}); upgrade the domain first")
        try:
            self.domain.decode(event_type, envelope["data"], envelope["schema_version"])
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
                                for e in exc.errors(include_url=False))
            raise ImportFileError(number, f"{event_type} data does not decode: "
                                          f"{reasons}") from None
        except IncidentError:
            raise
        except Exception as exc:
            raise DomainCodeError(f"decoding {event_type} (line {number})", exc) from exc


def _envelope(number: int, raw: Any) -> dict[str, Any]:
    """The envelope of one line, checked for shape; `recorded_at` in the store's format."""
    if not isinstance(raw, dict):
        raise ImportFileError(number, f"expected a JSON object, found {type(raw).__name__}")
    unknown = sorted(set(raw) - _REQUIRED.keys() - _OPTIONAL.keys())
    if unknown:
        raise ImportFileError(number, f"unexpected field(s) {', '.join(unknown)}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise ImportFileError(number, f"missing field(s) {', '.join(missing)}")
    for name, kind in _FIELDS.items():
        value = raw.get(name)
        # JSON gives exact types, so `type(...) is` also refuses true/false as an integer
        if type(value) is not kind and name in raw:
            raise ImportFileError(number, f"{name} must be {_describe(kind)}, "
                                          f"not {json.dumps(value)[:40]}")
    for name in ("event_id", "aggregate_id", "aggregate_type", "event_type"):
        if not raw[name]:
            raise ImportFileError(number, f"{name} is empty")
    envelope = dict(raw)
    envelope.pop("position", None)
    envelope.setdefault("metadata", {})
    envelope.setdefault("schema_version", 1)
    if envelope["version"] < 1 or envelope["schema_version"] < 1:
        raise ImportFileError(number, "version and schema_version start at 1")
    for name in ("correlation_id", "causation_id"):
        value = envelope["metadata"].get(name)
        if value is not None and type(value) is not str:
            raise ImportFileError(number, f"metadata.{name} must be a string or null, not "
                                          f"{json.dumps(value)[:40]}")
    _check_numbers(number, envelope)
    envelope["recorded_at"] = _time(number, raw["recorded_at"])
    return envelope


def _check_numbers(number: int, value: Any, where: str = "") -> None:
    """Every integer must fit a signed 64-bit column (what every store can hold)."""
    if type(value) is int:
        if not -LARGEST - 1 <= value <= LARGEST:
            raise ImportFileError(number, f"{where.lstrip('.') or 'a number'} is out of range "
                                          f"({str(value)[:30]} does not fit 64 bits)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(number, item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(number, item, f"{where}[{index}]")


def _time(number: int, text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ImportFileError(number, f"recorded_at {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ImportFileError(number, f"recorded_at {text!r} has no time zone")
    if _CANONICAL_TIME.fullmatch(text):  # already the store's form (as exported)
        return text
    try:
        return format_time(moment)
    except OverflowError:
        raise ImportFileError(number, f"recorded_at {text!r} is out of range in UTC") from None


def _describe(kind: type) -> str:
    return {str: "a string", int: "an integer", dict: "an object"}.get(kind, kind.__name__)


def _check_against_store(app: Application, plan: _Plan) -> None:
    """Refuse ids already in the target and streams the file would not continue."""
    store = app.store
    with store.transaction() as tx:  # holds the write lock: a consistent view, no writes
        present = tx.existing_event_ids(list(plan.event_ids))
    if present:
        first = min(present, key=plan.event_ids.__getitem__)
        raise StoreError(f"{len(present)} of the {len(plan.event_ids)} events are already in "
                         f"the store (e.g. {first} on line {plan.event_ids[first]}); "
                         "nothing was imported")
    existing = _existing_streams(store, plan.streams)
    for aggregate_id, (aggregate_type, first_version, number) in plan.streams.items():
        found = existing.get(aggregate_id)
        version = 0 if found is None else found[1]
        if found is not None and found[0] != aggregate_type:
            raise StoreError(f"line {number}: stream {aggregate_id} is a {found[0]} in the "
                             f"store, not a {aggregate_type}; nothing was imported")
        if first_version != version + 1:
            raise StoreError(f"line {number}: stream {aggregate_id} is at version {version} "
                             f"in the store; the file continues it at version "
                             f"{first_version}; nothing was imported")


def _existing_streams(store: EventStore,
                      wanted: dict[str, tuple[str, int, int]]) -> dict[str, tuple[str, int]]:
    """(aggregate type, version) of the target's streams among `wanted`: looked up one by
    one, or read all at once when the target has fewer streams than the file."""
    if store.stream_count() > len(wanted):
        infos = (store.stream(aggregate_id) for aggregate_id in wanted)
        return {i.aggregate_id: (i.aggregate_type, i.version) for i in infos if i is not None}
    found: dict[str, tuple[str, int]] = {}
    after: str | None = None
    while page := store.streams(after_id=after, limit=EXPORT_PAGE):
        found.update((i.aggregate_id, (i.aggregate_type, i.version)) for i in page
                     if i.aggregate_id in wanted)
        after = page[-1].aggregate_id
    return found
