"""Reading a log that may be damaged: every event that cannot be read is a finding.

`careful_pages` reads the log in pages like `EventStore.iter_events`, but a page that fails
(the database cannot read a row, or a row does not decode) is narrowed down to the rows that
fail, by a binary search on the position bound; each becomes an `Unreadable` finding, and
reading goes on after it. Each event read is also checked for shape (`malformed`): a damaged
row can hold the wrong type in a column and still be read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_core.envelope import RecordedEvent
from incident_core.ports import EventStore

__all__ = ["Unreadable", "careful_pages", "malformed"]

MAX_UNREADABLE = 200  # in a row: beyond this, the rest of the log is one finding


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A row (or with `rest`, all rows after `position`) that could not be read."""

    position: int
    reason: str
    rest: bool = False

    def __str__(self) -> str:
        if self.rest:
            return f"the log after #{self.position} cannot be read ({self.reason})"
        return f"event #{self.position} cannot be read: {self.reason}"


def _why(error: BaseException) -> str:
    text = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def malformed(event: RecordedEvent) -> str | None:
    """Why a read event is not a well-formed envelope, or None."""
    try:
        recorded_at = event.recorded_at_text  # schema 4: formatted from its microseconds
    except Exception as exc:  # any failure is the finding
        return _why(exc)
    texts = (event.event_id, event.aggregate_id, event.aggregate_type, event.event_type,
             recorded_at)
    if not all(isinstance(t, str) and t for t in texts):
        return "an id, type or time is not text"
    numbers: tuple[Any, ...] = (event.position, event.version, event.schema_version)
    if not all(type(n) is int and n >= 1 for n in numbers):
        return "its position, version or schema version is not a positive integer"
    try:
        datetime.fromisoformat(recorded_at)
        metadata = event.metadata
    except Exception as exc:  # any failure is the finding
        return _why(exc)
    if not isinstance(event.data, dict) or not isinstance(metadata, dict):
        return "its data or metadata is not a JSON object"
    return None


def _fails(store: EventStore, after: int, before: int, limit: int) -> bool:
    try:
        store.read_events(after_position=after, before_position=before, limit=limit)
    except Exception:  # probing where reading breaks
        return True
    return False


def _first_failing(store: EventStore, after: int, up_to: int, limit: int) -> int | None:
    """The position of the first row after `after` that cannot be read (None: none)."""
    low, high = after + 1, up_to + 1  # reading below `low` works; below `high` fails
    if not _fails(store, after, high, limit):
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if _fails(store, after, middle, limit):
            high = middle
        else:
            low = middle
    return high - 1


def careful_pages(store: EventStore, *, up_to: int,
                  batch_size: int = 5000) -> Iterator[list[RecordedEvent] | Unreadable]:
    """Pages of events up to `up_to` in position order, and a finding for every row that
    cannot be read; never raises for a damaged row."""
    after, failures = 0, 0
    while after < up_to:
        try:
            page = store.read_events(after_position=after, before_position=up_to + 1,
                                     limit=batch_size)
        except Exception as exc:  # a damaged row: find it, report, go on
            bad = _first_failing(store, after, up_to, batch_size)
            failures += 1
            if bad is None or failures > MAX_UNREADABLE:
                yield Unreadable(after, _why(exc), rest=True)
                return
            try:  # the rows before it read fine during the search (unless damage is erratic)
                before = store.read_events(after_position=after, before_position=bad,
                                           limit=batch_size)
            except Exception as again:
                before = []
                yield Unreadable(after, f"events before #{bad}: {_why(again)}", rest=True)
            if before:
                yield before
            yield Unreadable(bad, _why(exc))
            after = bad
            continue
        if not page:
            return
        failures = 0
        yield page
        after = page[-1].position if type(page[-1].position) is int else up_to


def file_findings(store: EventStore, *, deep: bool) -> list[str] | None:
    """Damage SQLite itself sees in a store file: the structural check of the header, and
    with `deep`, `PRAGMA integrity_check`. None: not a SQLite store (nothing to check)."""

    from incident_core.store.sql.sqlite_files import structural_problem
    from incident_core.store.sql.store import SqlEventStore

    if not isinstance(store, SqlEventStore):
        return None
    path = store.sql_dialect.database_file(store.target)
    if path is None:
        return None
    findings: list[str] = []
    problem = structural_problem(path)
    if problem:
        findings.append(f"the store file is damaged: {problem}")
    if deep:
        try:
            with store.engine.connect() as conn:
                lines = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check(100)")]
        except Exception as exc:  # the check itself failing is the finding
            lines = [_why(exc)]
        findings += [f"integrity check: {line}" for line in lines if line != "ok"]
    return findings
