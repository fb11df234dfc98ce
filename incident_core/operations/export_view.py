"""Export what a view shows: the global log under a filter and an order (NDJSON or CSV),
one stream (NDJSON), a projection's rows (CSV).

Each export is a plain generator (`incident_core.progress`) that yields `Progress` and
returns how many records it wrote; the inspector drives it on a worker thread. Pages are
keyset pages in the view's order, so a million events never sit in memory. The log is
exported as it was when the export started (events recorded meanwhile are left out). The
file is written beside its target and renamed into place at the end: a failed or
cancelled export leaves no partial file behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from incident_core.envelope import RecordedEvent
from incident_core.errors import StoreError
from incident_core.ports import EventFilter, EventStore
from incident_core.ports.sorting import SortKey, event_cursor
from incident_core.progress import Operation, Progress
from incident_core.projections.definition import ProjectionSpec

__all__ = ["LOG_CSV_COLUMNS", "export_log", "export_projection", "export_stream"]

Format = Literal["ndjson", "csv"]
PAGE = 1000
LOG_CSV_COLUMNS = ("position", "event_id", "aggregate_id", "aggregate_type", "event_type",
                   "version", "recorded_at", "schema_version", "data", "metadata")
_OLDEST_FIRST = SortKey("position")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _json(value)
    return value


def _event_ndjson(events: list[RecordedEvent]) -> str:
    return "".join(_json(e.to_json()) + "\n" for e in events)


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _event_csv(events: list[RecordedEvent]) -> str:
    return _csv_text([[e.position, e.event_id, e.aggregate_id, e.aggregate_type, e.event_type,
                       e.version, e.recorded_at_text, e.schema_version, _json(e.data),
                       _json(e.metadata)] for e in events])


def _write(path: str | Path, header: str, pages: Iterator[tuple[int, str]],
           total: int, message: str) -> Operation[int]:
    """Write `header` then each page's text to a temporary file beside `path`, yielding
    progress after each page; rename it into place at the end."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    written = 0
    yield Progress(0, total, message)
    try:
        with open(partial, "w", encoding="utf-8", newline="") as fp:
            fp.write(header)
            for count, text in pages:
                fp.write(text)
                written += count
                yield Progress(written, total, message)
        os.replace(partial, target)
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:  # failed, or cancelled (the generator closed): no partial file stays
        partial.unlink(missing_ok=True)
    return written


def _log_pages(store: EventStore, flt: EventFilter | None, sort: SortKey, head: int,
               encode: Callable[[list[RecordedEvent]], str]) -> Iterator[tuple[int, str]]:
    after = None
    while True:
        page = store.read_events_sorted(sort, after=after, limit=PAGE, filter=flt)
        if not page:
            return
        after = event_cursor(page[-1], sort)
        shown = [e for e in page if e.position <= head]
        if shown:
            yield len(shown), encode(shown)
        if len(page) < PAGE:
            return


def _all_pages(store: EventStore, head: int,
               encode: Callable[[list[RecordedEvent]], str]) -> Iterator[tuple[int, str]]:
    for page in store.iter_events(up_to=head, batch_size=PAGE):
        yield len(page), encode(page)


def export_log(store: EventStore, path: str | Path, *, fmt: Format = "ndjson",
               filter: EventFilter | None = None,
               sort: SortKey | None = None) -> Operation[int]:
    """The global log as the view shows it: events matching `filter`, in `sort` order
    (oldest first by default), up to the head at the start. NDJSON lines are the events'
    JSON envelopes (what `incident import` reads); CSV has `LOG_CSV_COLUMNS`."""
    head = store.head()
    sort = sort or _OLDEST_FIRST
    encode = _event_csv if fmt == "csv" else _event_ndjson
    header = _csv_text([list(LOG_CSV_COLUMNS)]) if fmt == "csv" else ""
    if (filter is None or filter.is_empty) and sort == _OLDEST_FIRST:
        pages = _all_pages(store, head, encode)  # the fastest path: by position
    else:
        pages = _log_pages(store, filter, sort, head, encode)
    total = head if filter is None or filter.is_empty else 0  # 0: not known in advance
    return (yield from _write(path, header, pages, total, "exporting events"))


def export_stream(store: EventStore, aggregate_id: str, path: str | Path) -> Operation[int]:
    """One aggregate's events in version order, as NDJSON envelopes."""
    info = store.stream(aggregate_id)
    if info is None:
        raise StoreError(f"there is no stream {aggregate_id}")

    def pages() -> Iterator[tuple[int, str]]:
        after = 0
        while after < info.version:
            page = store.read_stream(aggregate_id, after_version=after,
                                     to_version=info.version, limit=PAGE)
            if not page:
                return
            after = page[-1].version
            yield len(page), _event_ndjson(page)

    return (yield from _write(path, "", pages(), info.version, f"exporting {aggregate_id}"))


def export_projection(store: EventStore, spec: ProjectionSpec, path: str | Path, *,
                      sort: SortKey | None = None) -> Operation[int]:
    """A projection's rows as CSV (its columns, in key order or `sort` order)."""
    names = [c.name for c in spec.columns]
    order = sort or SortKey(spec.key)

    def pages() -> Iterator[tuple[int, str]]:
        after = None
        while True:
            rows = store.projection_rows_sorted(spec, order, after=after, limit=PAGE)
            if not rows:
                return
            after = (rows[-1][order.column], rows[-1][spec.key])
            yield len(rows), _csv_text([[_csv_cell(r.get(n)) for n in names] for r in rows])
            if len(rows) < PAGE:
                return

    return (yield from _write(path, _csv_text([names]), pages(),
                              store.projection_row_count(spec), f"exporting {spec.name}"))
