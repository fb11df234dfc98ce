"""One-pass bulk import: each line parsed and checked once, written in the same pass, the
whole file in one write transaction (all or nothing).

Lines are taken in batches. A batch is checked (`import_checks`: shape, ids and versions
against the lines before it, the domain, the data decoded to typed events), then against
the store (one query for the ids already there; each stream's first imported version must
continue the store's stream), then appended, and the projections fold it in bulk from the
typed events the check decoded (no second decode), their rows and lineage written once per
batch. An adapter that can append the parsed envelopes as they are does
(`append_envelopes`: on a SQL store the rows are built straight from them, and the events
the projections and listeners see hold their metadata as a replay reads it back); an
import at least as large as the store runs in the adapter's bulk load (`bulk_load`: on
SQLite the log's secondary indexes are built once at the end, in the same transaction, and
on an empty log its uniqueness guards too: a duplicate then fails that build, named).
A bad line anywhere raises before the commit, so the store is left exactly as it was:
nothing is imported.

With `resume`, events already in the store are skipped if identical (what a stopped import
left), and an event whose id is present with other content is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from incident_core import telemetry
from incident_core.collector import collector_paused
from incident_core.engine.application import Application
from incident_core.engine.parking import write_guard
from incident_core.engine.unit import Unit
from incident_core.errors import ConcurrencyError, StoreError
from incident_core.operations.import_checks import Checked, LineChecker
from incident_core.ports import EventStore, StoreTransaction
from incident_core.progress import Operation, Progress

__all__ = ["BATCH", "append_batch", "import_lines"]

BATCH = 5000  # lines checked, appended and projected together
DEFER_INDEXES = 10_000  # lines from which the log's index work waits for the end
STREAM_PAGE = 5000


def import_lines(app: Application, numbered: Sequence[tuple[int, str]], *,
                 resume: bool = False, batch: int = BATCH,
                 defer_indexes: int = DEFER_INDEXES) -> Operation[int]:
    """Import numbered NDJSON lines in one transaction, `batch` lines at a time; return how
    many were imported. Raises ImportFileError (naming the line and field) or StoreError;
    then nothing is imported. Closing the operation before its end imports nothing either."""
    total = len(numbered)
    yield Progress(0, total, "importing")
    checker = LineChecker(app.domain)
    imported = 0
    units: list[Unit] = []
    try:
        with write_guard(), app.store.transaction() as tx, \
                _loading(tx, total, defer_indexes):
            target = _Target(app.store, tx, resume)
            for start in range(0, total, batch):
                part = numbered[start:start + batch]
                with collector_paused():
                    checked = target.admit(checker.check_lines(part))
                    if checked:
                        unit = append_batch(app, tx, checked)
                        if not app.listeners.listening:
                            unit.recorded.clear()  # nobody to tell: do not hold them
                        units.append(unit)
                        imported += len(checked)
                yield Progress(start + len(part), total, "importing")
    except ConcurrencyError as exc:
        raise StoreError(f"cannot import: {exc} in this store; nothing was imported") from None
    for unit in units:  # after the commit: listeners hear of what was imported
        unit.publish()
    return imported


def _loading(tx: StoreTransaction, total: int, least: int) -> AbstractContextManager[None]:
    """The adapter's bulk load (index work deferred to the end) for an import at least as
    large as what the store holds, when it is large: rebuilding the indexes then costs
    less than inserting into them line by line."""
    if total >= least and total >= tx.head():
        return tx.bulk_load()
    return nullcontext()



@telemetry.traced("incident.import.batch")
def append_batch(app: Application, tx: StoreTransaction, checked: list[Checked]) -> Unit:
    """Append one checked batch and bring the projections up to it (bulk folding);
    process managers skip imported events (their effects are in the import). On a SQL
    store the rows are built straight from the envelopes (`store.sql.import_rows`)."""
    unit = Unit(app.decider, tx, listeners=app.listeners)
    unit.record_envelopes([e for _, e, _ in checked], [event for _, _, event in checked])
    unit.finish(fast_forward=True, skip_sagas=True)
    tx.flush()  # written now, with the collector still paused, not all at the commit
    unit.decoded.clear()  # the typed events were only needed to project this batch
    return unit


@dataclass
class _Target:
    """What the store already holds, seen from the import's write transaction: ids (one
    query per batch) and the streams the file continues (none when the store was empty)."""

    store: EventStore
    tx: StoreTransaction
    resume: bool
    empty: bool = False
    continued: set[str] = field(default_factory=set)
    _all_streams: dict[str, tuple[str, int]] | None = None

    def __post_init__(self) -> None:
        self.empty = self.tx.head() == 0

    def admit(self, checked: list[Checked]) -> list[Checked]:
        """The batch without the events a resumed import skips; raises StoreError if an id
        is already recorded (without `resume`) or a stream would not continue."""
        if self.empty:
            return checked
        present = self.tx.existing_event_ids([e["event_id"] for _, e, _ in checked])
        if present:
            checked = self._without_present(checked, present)
        self._check_streams(checked)
        return checked

    def _without_present(self, checked: list[Checked], present: set[str]) -> list[Checked]:
        if not self.resume:
            number, first = next((n, e["event_id"]) for n, e, _ in checked
                                 if e["event_id"] in present)
            raise StoreError(f"{len(present)} of the events on lines {checked[0][0]}-"
                             f"{checked[-1][0]} are already in the store (e.g. {first} on "
                             f"line {number}); nothing was imported")
        for number, envelope, _ in checked:
            if envelope["event_id"] in present:
                self._check_identical(number, envelope)
        return [c for c in checked if c[1]["event_id"] not in present]

    def _check_identical(self, number: int, envelope: dict[str, Any]) -> None:
        event_id = envelope["event_id"]
        stored = self.store.get_event(event_id)
        theirs = None if stored is None else stored.to_json()
        if theirs is None or any(theirs[k] != envelope[k] for k in envelope):
            raise StoreError(f"line {number}: event {event_id} is already in the store with "
                             "other content; nothing was imported")

    def _check_streams(self, checked: list[Checked]) -> None:
        """The first event the file writes to each stream continues the store's stream."""
        firsts = {}
        for number, envelope, _ in checked:
            aggregate_id = envelope["aggregate_id"]
            if aggregate_id not in self.continued and aggregate_id not in firsts:
                firsts[aggregate_id] = (number, envelope)
        existing = self._existing(list(firsts))
        for aggregate_id, (number, envelope) in firsts.items():
            found = existing.get(aggregate_id)
            version = 0 if found is None else found[1]
            if found is not None and found[0] != envelope["aggregate_type"]:
                raise StoreError(f"line {number}: stream {aggregate_id} is a {found[0]} in "
                                 f"the store, not a {envelope['aggregate_type']}; nothing "
                                 "was imported")
            if envelope["version"] != version + 1:
                raise StoreError(f"line {number}: stream {aggregate_id} is at version "
                                 f"{version} in the store; the file continues it at version "
                                 f"{envelope['version']}; nothing was imported")
        self.continued.update(firsts)

    def _existing(self, wanted: list[str]) -> dict[str, tuple[str, int]]:
        """(aggregate type, version) of the store's streams among `wanted`, as committed
        before the import (read outside its transaction): one by one for a few, or all of
        the store's streams read once when it has fewer than a page per batch."""
        if self._all_streams is None and self.store.stream_count() <= 4 * len(wanted):
            found: dict[str, tuple[str, int]] = {}
            after: str | None = None
            while page := self.store.streams(after_id=after, limit=STREAM_PAGE):
                found.update((i.aggregate_id, (i.aggregate_type, i.version)) for i in page)
                after = page[-1].aggregate_id
            self._all_streams = found
        if self._all_streams is not None:
            everything = self._all_streams
            return {a: everything[a] for a in wanted if a in everything}
        infos = (self.store.stream(aggregate_id) for aggregate_id in wanted)
        return {i.aggregate_id: (i.aggregate_type, i.version) for i in infos if i is not None}
