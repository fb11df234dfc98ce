"""The SQL adapter's event log reads (the `EventLog` port): keyset pages of the global
log, streams, single events, and waiting for another process's commit."""

from __future__ import annotations

import gc
import sysconfig
import time
from collections.abc import Iterator
from typing import Any

from incident_core.collector import collector_paused
from incident_core.envelope import RecordedEvent
from incident_core.errors import StoreError
from incident_core.ports import EventFilter, StreamRow
from incident_core.store.sql.core import SqlStoreCore
from incident_core.store.sql.queries import HEAD, NO_LIMIT, E, ReplayPage, holds_nul
from incident_core.store.sql.stored_events import replay_page, undecoded_page
from incident_core.store.sql.stream_reads import STREAM_ROWS, compiled, cursor_of, stream_rows

__all__ = ["RANGE_SCAN", "SqlEventLog"]

RANGE_SCAN = 50_000  # a filtered read over at most this many positions scans the range
# Where `gc.freeze()` and `gc.unfreeze()` are two list splices (CPython with its GIL; a
# free-threaded build walks the whole heap in each)
_SPLICES = (hasattr(gc, "freeze") and hasattr(gc, "get_freeze_count")
            and not sysconfig.get_config_var("Py_GIL_DISABLED"))


def _into_oldest_generation() -> None:
    """Every object the cyclic collector tracks moved into its oldest generation, unscanned.

    A replayed page is thousands of fresh events holding no cycles, and a replay's caller
    keeps them (a fold, an export, a list): left in the young generations, the collection
    that follows the page scans every one of them, and every referent of each (their ids,
    data, positions), then the middle generation's does it again, for nothing: 0.2-0.4 of a
    replay's 2.0-2.4 us per event, the most in a fragmented heap (after an import in the
    same process). `gc.freeze()` then `gc.unfreeze()` move everything young into the
    oldest generation at once: the events are scanned only by the full collections they
    would have reached anyway. The price: a cycle of garbage that other code made just
    before is found by the next full collection instead of a young one. Left alone where
    something is frozen (the inspector freezes what it keeps for good: unfreezing would
    undo that; a freeze by another thread between the two calls would be undone too, and
    only cost it that saving)."""
    if _SPLICES and gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


class SqlEventLog(SqlStoreCore):
    """Reading the log of a SQL store."""

    def head(self) -> int:
        with self.reading() as conn:
            return int(conn.execute(HEAD).scalar_one())

    def read_events(self, *, after_position: int = 0, before_position: int | None = None,
                    limit: int | None = None, filter: EventFilter | None = None,
                    descending: bool = False) -> list[RecordedEvent]:
        r = self.reads
        short = before_position is not None and before_position - after_position <= RANGE_SCAN
        stmt = self._filtered(r.select, filter, scan=short and not descending)
        if after_position:
            stmt = stmt.where(E.c.position > after_position)
        if before_position is not None:
            stmt = stmt.where(E.c.position < before_position)
        stmt = stmt.order_by(E.c.position.desc() if descending else E.c.position)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.reading() as conn, conn.execute(stmt) as rows:
            return self._built(r, rows)

    def iter_events(self, *, after_position: int = 0, up_to: int | None = None,
                    batch_size: int = 5000) -> Iterator[list[RecordedEvent]]:
        return self._pages(after_position, up_to, batch_size, self.reads.replay_page)

    def iter_undecoded_events(self, *, after_position: int = 0, up_to: int | None = None,
                              batch_size: int = 5000) -> Iterator[list[RecordedEvent]]:
        """`iter_events` for a reader that decodes each event's data itself (a rebuild's
        fold): schemas 3 and 4 give pages of `UndecodedEvent`s, whose data is
        the stored text until asked for; older schemas, `iter_events`' pages."""
        build = self.reads.replay_page
        return self._pages(after_position, up_to, batch_size,
                           undecoded_page if build is replay_page else build)

    def _pages(self, after_position: int, up_to: int | None, batch_size: int,
               build: ReplayPage) -> Iterator[list[RecordedEvent]]:
        last = after_position
        params = {"up_to": NO_LIMIT if up_to is None else up_to, "limit": batch_size}
        pool = self.engine.pool  # `close()` replaces it: a read begun before ends with it
        while True:
            if self.engine.pool is not pool:
                raise StoreError(f"{self.target} was closed while it was being read")
            with self.reading() as conn, cursor_of(conn) as cursor:
                batch = self._replayed(cursor, {**params, "after": last}, build)
            if not batch:
                return
            yield batch
            last = batch[-1].position
            if len(batch) < batch_size:
                return

    def _replayed(self, cursor: Any, params: dict[str, Any],
                  build: ReplayPage) -> list[RecordedEvent]:
        """A page of `iter_events`: without its metadata where the schema allows, read for
        the page when first asked for (`metadata_range`), collector paused meanwhile."""
        r = self.reads
        rows = self.prepared(f"replay:{self.schema_version}", r.replay).run(cursor, params)
        with collector_paused():
            page = build(rows, self._metadata_range)
            _into_oldest_generation()
        return page

    def _metadata_range(self, first: int, last: int) -> list[Any]:
        if self.closed:  # closed means closed: the metadata is not kept in the events
            raise StoreError(f"{self.target}: the store is closed (a replayed event's "
                             "metadata is read from it when first asked for)")
        statement = self.prepared(f"metadata_range:{self.schema_version}",
                                  self.reads.metadata_range)
        with self.reading() as conn, cursor_of(conn) as cursor:
            return list(statement.run(cursor, {"first": first, "last": last}).fetchall())

    def read_stream(self, aggregate_id: str, *, after_version: int = 0,
                    to_version: int | None = None,
                    limit: int | None = None) -> list[RecordedEvent]:
        if holds_nul(aggregate_id):
            return []
        with self.reading() as conn, cursor_of(conn) as cursor:
            return self.stream_on_cursor(cursor, aggregate_id, after_version, to_version, limit)

    def read_stream_rows(self, aggregate_id: str, *, after_version: int = 0,
                         to_version: int | None = None) -> list[StreamRow]:
        if holds_nul(aggregate_id):
            return []
        statement = compiled(STREAM_ROWS, self.engine.dialect)
        with self.reading() as conn, cursor_of(conn) as cursor:
            return stream_rows(statement, cursor, aggregate_id, after_version, to_version)

    def get_event(self, event_id: str) -> RecordedEvent | None:
        if holds_nul(event_id):
            return None
        r = self.reads
        with self.reading() as conn:
            row = conn.execute(r.select.where(E.c.event_id == event_id)).first()
        return None if row is None else r.from_row(row)

    def events_with_metadata(self, key: str, value: str,
                             limit: int = 1000) -> list[RecordedEvent]:
        condition = self.metadata_is(key, value)
        if holds_nul(value):
            return []
        r = self.reads
        stmt = r.select.where(condition).order_by(E.c.position).limit(limit)
        with self.reading() as conn, conn.execute(stmt) as rows:
            return list(map(r.from_row, rows))

    def wait_for_change(self, known_head: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            current = self.head()
            remaining = deadline - time.monotonic()
            if current != known_head or remaining <= 0:
                return current
            time.sleep(min(0.1, remaining))
