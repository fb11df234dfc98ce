"""Export the log as NDJSON, and import such a file into another store.

An export is one `RecordedEvent.to_json()` envelope per line, in position order, up to the
head when it starts. An import keeps each event's id, stream, version, time, data and
metadata; positions are the target's own.

Import (`bulk_import`) checks every line as it goes, in one pass, and writes the whole file
in one transaction: every line must be a well-formed envelope of an event the domain knows
and can decode; event ids must be new (in the file and in the target); each stream's
versions must continue the target's stream without a gap. A file that fails a check, a
write the store refuses, a kill or a cancelled operation import nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

from incident_core import telemetry
from incident_core.collector import collector_paused
from incident_core.engine.application import Application
from incident_core.errors import IncidentError
from incident_core.operations.bulk_import import BATCH, import_lines
from incident_core.operations.careful import Unreadable, careful_pages, malformed
from incident_core.operations.import_checks import ImportFileError
from incident_core.ports import EventStore
from incident_core.progress import Operation, Progress

__all__ = ["DamagedLogError", "ImportFileError", "export_events", "import_events"]

EXPORT_PAGE = 5000
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


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


@telemetry.operation("incident.import", telemetry.imported(BATCH))
def import_events(app: Application, lines: Iterable[str], *,
                  resume: bool = False) -> Operation[int]:
    """Import NDJSON envelopes (blank lines are ignored); return how many were imported.
    Raises ImportFileError (naming the line) or StoreError, and then imports nothing. With
    `resume`, events already in the store are skipped if identical (a killed import goes
    on where it stopped); an event whose id is present with other content is an error."""
    with collector_paused():  # else every 700 tuples made start a pass over the lines
        numbered = [(n, line) for n, line in enumerate(lines, start=1)
                    if line and not line.isspace()]  # `line.strip()` without its copy
    return (yield from import_lines(app, numbered, resume=resume))
