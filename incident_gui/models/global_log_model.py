"""The global log: every event by position, over a million rows, never loaded whole.

Two ways of paging, both off the UI thread (reads on a `QueryLane`, newest first; each
answer comes back to the model's own callback, and `reload` drops the stale ones):

* **indexed** (no filter): positions are contiguous 1..head, so row r *is* position r + 1.
  `rowCount()` is the head; `data()` for a row whose page is not cached asks the loader for
  that page (`read_events(after_position=page_start, limit=PAGE)`) and shows a placeholder
  until it arrives. Jumping to the end costs one page query. Pages live in a small LRU
  cache. If a page ever shows a gap in positions, the model falls back to keyset paging.
* **keyset** (a filter is active, or another order than oldest first): `canFetchMore` /
  `fetchMore` append pages of `read_events_sorted(sort, after=cursor of the last row,
  filter=...)` — the store sorts, never OFFSET, never a full load. Events recorded live are
  inserted where the order puts them when that is inside the loaded rows (else a later
  page brings them).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from incident_core import EventFilter, EventStore, RecordedEvent
from incident_core.ports.sorting import SortKey, event_cursor
from incident_gui.models.event_cells import KnowsEvent, event_cell
from incident_gui.models.log_pages import PAGE_SIZE, LogPages
from incident_gui.models.sort_order import SortedRows
from incident_gui.tasks.query_lane import QueryLane, Requests

__all__ = ["PAGE_SIZE", "GlobalLogModel"]

# A queued page request older than this many newer requests is no longer on screen: skip it.
_STALE_REQUESTS = 24
MAX_LIVE_EVENTS = 2000  # more live events than this at once: a sorted log reloads
_COLUMNS = (("position", "Position"), ("aggregate", "Aggregate"), ("version", "Version"),
            ("type", "Event type"), ("recorded", "Recorded"), ("summary", "Data"))
# The store column each table column sorts by (the data summary does not sort).
SORT_COLUMNS = {"position": "position", "aggregate": "aggregate_id", "version": "version",
                "type": "event_type", "recorded": "recorded_at"}
OLDEST_FIRST = SortKey("position")
NEWEST_FIRST = SortKey("position", descending=True)
Index = QModelIndex | QPersistentModelIndex
_SKIPPED = object()


def _knows_everything(_event_type: str) -> bool:
    return True


class GlobalLogModel(QAbstractTableModel):
    """All events (or the filtered ones) in position order."""

    sig_page_loaded = Signal(int, int)  # first row, last row
    sig_sort_changed = Signal(object)  # SortKey
    sig_failed = Signal(str, str)  # message, details

    def __init__(self, lane: QueryLane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._requests = Requests(lane)
        self._store: EventStore | None = None
        self._store_head = 0  # the head the window has told us of (no read here)
        self._knows: KnowsEvent = _knows_everything
        self._filter = EventFilter()
        self._sort = OLDEST_FIRST
        self._head = 0  # live: events after this position are not in the keyset rows yet
        self._generation = 0
        self._indexed = True
        # indexed mode
        self._count = 0
        self._pages = LogPages()
        self._requested: dict[int, int] = {}
        self._serial = 0
        # keyset mode
        self._rows: SortedRows[RecordedEvent] = SortedRows(self._sort)
        self._exhausted = True
        self._fetching = False

    # -- configuration ------------------------------------------------------------------
    def set_store(self, store: EventStore | None, knows: KnowsEvent, head: int = 0,
                  first_page: list[RecordedEvent] | None = None) -> None:
        """Show `store` up to `head`; `first_page` (the events from position 1, read with
        the head) is kept as the first page when the log shows every event oldest first."""
        self._store = store
        self._store_head = head
        self._knows = knows
        self._filter = EventFilter()
        self.reload(first_page=first_page)

    def set_head(self, head: int) -> None:
        """The store's head as the window last read it (used by the next `reload`)."""
        self._store_head = head

    def set_filter(self, flt: EventFilter) -> None:
        self._filter = flt
        self.reload()

    @property
    def event_filter(self) -> EventFilter:
        return self._filter

    @property
    def sort_key(self) -> SortKey:
        return self._sort

    def set_sort(self, sort: SortKey) -> None:
        """Order the log by a store column (the store sorts; pages stay keyset pages)."""
        if sort == self._sort:
            return
        self._sort = sort
        self.reload()
        self.sig_sort_changed.emit(sort)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's header click: sort by that column if the store can."""
        name = SORT_COLUMNS.get(_COLUMNS[column][0]) if 0 <= column < len(_COLUMNS) else None
        if name is not None:
            self.set_sort(SortKey(name, order == Qt.SortOrder.DescendingOrder))

    @staticmethod
    def sort_section(sort: SortKey) -> int:
        """The table column showing `sort`'s store column."""
        names = [SORT_COLUMNS.get(key) for key, _title in _COLUMNS]
        return names.index(sort.column)

    @property
    def indexed(self) -> bool:
        """True when rows map directly to positions (no filter)."""
        return self._indexed

    def reload(self, *, indexed: bool | None = None,
               first_page: list[RecordedEvent] | None = None) -> None:
        self.beginResetModel()
        self._generation += 1
        self._requests.reset()
        natural = self._filter.is_empty and self._sort == OLDEST_FIRST
        self._indexed = natural if indexed is None else indexed
        self._pages.clear()
        self._requested.clear()
        self._rows = SortedRows(self._sort)
        self._fetching = False
        store = self._store
        self._head = 0 if store is None else self._store_head
        self._count = self._store_head if (store is not None and self._indexed) else 0
        self._exhausted = store is None or self._indexed
        self.endResetModel()
        if self._indexed and self._count and first_page:
            self._page_arrived(0, [e for e in first_page if e.position <= self._count])
        elif self._indexed and self._count:
            self._request_page(0)
        elif not self._indexed:
            self.fetchMore(QModelIndex())

    # -- Qt model API ---------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return self._count if self._indexed else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = _COLUMNS[index.column()][0]
        event = self.event_at(index.row(), request=True)
        if event is not None:
            return event_cell(event, column, role, self._knows)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "position":
                return str(index.row() + 1)
            return "loading…" if column == "summary" else ""
        if role == Qt.ItemDataRole.TextAlignmentRole and column == "position":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def canFetchMore(self, parent: Index) -> bool:
        return (not parent.isValid() and not self._indexed and not self._exhausted
                and not self._fetching)

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent) or self._store is None:
            return
        self._fetching = True
        # (an event recorded since the last live update may come in a page: it is shown in
        # its place, and the live update that follows finds it there already)
        store, flt, sort = self._store, self._filter, self._sort
        last = self._rows.last()
        after = None if last is None else event_cursor(last, sort)
        if sort == OLDEST_FIRST:
            self._requests.submit(lambda: store.read_events(
                after_position=0 if after is None else after[1], limit=PAGE_SIZE,
                filter=flt), self._rows_arrived, self._on_failed)
            return
        self._requests.submit(
            lambda: store.read_events_sorted(sort, after=after, limit=PAGE_SIZE, filter=flt),
            self._rows_arrived, self._on_failed)

    # -- rows ---------------------------------------------------------------------------
    def event_at(self, row: int, *, request: bool = False) -> RecordedEvent | None:
        """The event shown in `row`, or None while its page is loading (then, with
        `request=True`, ask for the page)."""
        if not self._indexed:
            return self._rows.at(row)
        if not 0 <= row < self._count:
            return None
        event = self._pages.event_at(row)
        if event is not None:
            return event
        if request:
            self._request_page(row // PAGE_SIZE)
        return None

    def row_of_position(self, position: int) -> int | None:
        """The row showing `position` (None when it is filtered out or not loaded yet)."""
        if self._indexed:
            return position - 1 if 1 <= position <= self._count else None
        return self._rows.row_of(position)

    def cached_pages(self) -> list[int]:
        """Indexes of the pages held in memory (indexed mode), least recently used first."""
        return self._pages.indexes()

    def is_loading(self) -> bool:
        return bool(self._requested) or self._fetching

    # -- paging ------------------------------------------------------------------------------
    def _request_page(self, page: int) -> None:
        if page in self._requested:  # queued or running: just mark it as wanted now
            self._requested[page] = self._serial
            return
        self._serial += 1
        self._requested[page] = self._serial
        store, generation = self._store, self._generation
        if store is None:
            return

        def load() -> object:
            requested = self._requested.get(page)
            if generation != self._generation or requested is None or \
                    self._serial - requested > _STALE_REQUESTS:
                return _SKIPPED
            return store.read_events(after_position=page * PAGE_SIZE, limit=PAGE_SIZE)

        def failed(message: str, details: str) -> None:
            self._requested.pop(page, None)
            self._on_failed(message, details)

        self._requests.submit(load, lambda result: self._page_arrived(page, result), failed,
                              key=("page", page))

    def _on_failed(self, message: str, details: str) -> None:
        self._fetching = False
        self.sig_failed.emit(message, details)

    def _page_arrived(self, page: int, result: object) -> None:
        self._requested.pop(page, None)
        if result is _SKIPPED or not isinstance(result, list):
            return
        if not self._pages.keep(page, result):
            self.reload(indexed=False)  # positions have gaps: page by keyset instead
            return
        start = page * PAGE_SIZE
        last = min(start + PAGE_SIZE, self._count) - 1
        if last >= start:
            self.dataChanged.emit(self.index(start, 0), self.index(last, len(_COLUMNS) - 1))
            self.sig_page_loaded.emit(start, last)

    def _rows_arrived(self, events: list[RecordedEvent]) -> None:
        self._fetching = False
        fresh = [e for e in events if self._rows.row_of(e.position) is None]
        if len(events) < PAGE_SIZE:
            self._exhausted = True
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()
        self.sig_page_loaded.emit(len(self._rows) - len(fresh), len(self._rows) - 1)

    def _live_arrived(self, head: int, events: list[RecordedEvent]) -> None:
        """Events recorded live (already filtered): insert those the loaded rows reach."""
        self._head = max(self._head, head)
        for event in events:
            if self._rows.row_of(event.position) is not None:
                continue
            row = self._rows.insertion_row(event, complete=self._exhausted)
            if row is None:  # beyond the loaded rows: a later page brings it
                self._exhausted = False
                continue
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.insert(row, event)
            self.endInsertRows()
        if events:
            self.sig_page_loaded.emit(0, len(self._rows) - 1)

    # -- live ---------------------------------------------------------------------------------
    def grow_to(self, head: int, events: list[RecordedEvent] | None = None) -> None:
        """Events up to `head` were recorded (`events`: all of them, when known): show
        them, as new rows at the end. Given events fill the pages they belong to, so
        they are not read again; a filtered or sorted log reads what it shows."""
        if self._store is None:
            return
        self._store_head = max(self._store_head, head)
        if not self._indexed:
            self._grow_keyset(head)
            return
        if head <= self._count:
            return
        old = self._count
        last_page = (old - 1) // PAGE_SIZE if old else None
        if last_page is not None and old % PAGE_SIZE and \
                not self._pages.extend(old, head, events):
            self._pages.drop(last_page)  # it was partial: load it again, complete
        self.beginInsertRows(QModelIndex(), old, head - 1)
        self._count = head
        self.endInsertRows()

    def _grow_keyset(self, head: int) -> None:
        store, flt, known = self._store, self._filter, self._head
        if store is None or head <= known:
            return
        if head - known > MAX_LIVE_EVENTS:  # too many to place one by one: read again
            self.reload()
            return
        self._requests.submit(lambda: [
            e for e in store.read_events(after_position=known, filter=flt, limit=head - known)
            if e.position <= head], lambda events: self._live_arrived(head, events),
            self._on_failed)
