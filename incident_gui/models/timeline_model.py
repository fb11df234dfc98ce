"""One aggregate's events by version, paged lazily, read off the UI thread.

Versions of a stream are contiguous from 1, so row r shows version r + 1: `rowCount()` is
the stream's version, and a page of `read_stream(after_version=, to_version=)` (one index
range query) is read on a `QueryLane` the first time one of its rows is shown (a
placeholder meanwhile: `data()` never reads the store). Pages live in a small LRU cache,
so a stream of a million events scrolls, and jumps to any version, in one query each.
Events recorded live are put in their pages as they come, never read again.
A click on the Version (or Recorded) header turns the order around: newest first, row r
then shows version N - r (versions are recorded in time order, so both columns sort
alike; the event type and data do not sort).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from incident_core import EventStore, RecordedEvent, StreamInfo
from incident_gui.models.event_cells import KnowsEvent, event_cell
from incident_gui.tasks.query_lane import QueryLane, Requests

__all__ = ["PAGE_SIZE", "TimelineModel"]

PAGE_SIZE = 500
MAX_CACHED_PAGES = 40
_COLUMNS = (("version", "Version"), ("type", "Event type"), ("recorded", "Recorded"),
            ("summary", "Data"))
Index = QModelIndex | QPersistentModelIndex


def _knows_everything(_event_type: str) -> bool:
    return True


class TimelineModel(QAbstractTableModel):
    """Rows are the selected aggregate's versions 1..N.

    Choosing an aggregate asks the lane for its stream info (the row count: `sig_loaded`
    when known); a row whose page is not cached asks for it, and `sig_page_loaded(first,
    last)` tells when its rows are there."""

    sig_loaded = Signal()
    sig_page_loaded = Signal(int, int)
    sig_failed = Signal(str)

    def __init__(self, lane: QueryLane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._requests = Requests(lane)
        self._store: EventStore | None = None
        self._knows: KnowsEvent = _knows_everything
        self._aggregate_id: str | None = None
        self._pages: OrderedDict[int, dict[int, RecordedEvent]] = OrderedDict()
        self._requested: set[int] = set()
        self._early: list[RecordedEvent] = []  # recorded while the row count was read
        self._unpaged: dict[int, RecordedEvent] = {}  # recorded live, their page not read
        self._total = 0
        self.info: StreamInfo | None = None  # the shown stream, as read or last recorded
        self.loading = False
        self.descending = False

    def set_store(self, store: EventStore | None, knows: KnowsEvent) -> None:
        self._store = store
        self._knows = knows
        self.set_aggregate(None)

    def set_aggregate(self, aggregate_id: str | None) -> None:
        """Show `aggregate_id`; its row count arrives with `sig_loaded`."""
        self.beginResetModel()
        self._requests.reset()
        self._aggregate_id = aggregate_id
        self._pages.clear()
        self._requested.clear()
        self._early.clear()
        self._unpaged.clear()
        self._total, self.info = 0, None
        store = self._store
        self.loading = store is not None and aggregate_id is not None
        self.endResetModel()
        if store is not None and aggregate_id is not None:
            self._requests.submit(lambda: store.stream(aggregate_id), self._info_arrived,
                                  self._on_failed)
        else:
            self.sig_loaded.emit()

    def _info_arrived(self, info: StreamInfo | None) -> None:
        self.loading = False
        self.info = info
        total = 0 if info is None else info.version
        if total:
            self.beginInsertRows(QModelIndex(), 0, total - 1)
            self._total = total
            self.endInsertRows()
        early, self._early = self._early, []
        if early:
            self.append_recorded(early)
        self.sig_loaded.emit()

    def _on_failed(self, message: str, _details: str) -> None:
        self.loading = False
        self._requested.clear()
        self.sig_failed.emit(message)

    @property
    def aggregate_id(self) -> str | None:
        return self._aggregate_id

    @property
    def total(self) -> int:
        """The stream's version: the number of rows."""
        return self._total

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's header click: by version (or time), oldest or newest first."""
        descending = order == Qt.SortOrder.DescendingOrder
        if _COLUMNS[column][0] in ("version", "recorded") and descending != self.descending:
            self.beginResetModel()
            self.descending = descending
            self.endResetModel()

    def _version_of(self, row: int) -> int:
        return self._total - row if self.descending else row + 1

    def cached_pages(self) -> list[int]:
        return list(self._pages)

    # -- Qt model API ---------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._total

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
        version = self._version_of(index.row())
        page = self._cached((version - 1) // PAGE_SIZE)
        event = None if page is None else page.get(version)
        if event is not None:
            return event_cell(event, column, role, self._knows)
        if role == Qt.ItemDataRole.DisplayRole:  # loading, or a version missing
            gap = "loading…" if page is None else "(missing)"
            return {"version": str(version), "type": gap}.get(column, "")
        return None

    # -- rows -------------------------------------------------------------------------------
    def event_at(self, row: int) -> RecordedEvent | None:
        """The event shown in `row`, or None while its page is loading (it is asked for)."""
        if not 0 <= row < self._total:
            return None
        version = self._version_of(row)
        page = self._cached((version - 1) // PAGE_SIZE)
        return None if page is None else page.get(version)

    def requesting(self) -> bool:
        """True while pages are being read."""
        return bool(self._requested)

    def is_loading_row(self, row: int) -> bool:
        """True while the page of `row` is being read."""
        if not 0 <= row < self._total:
            return False
        return (self._version_of(row) - 1) // PAGE_SIZE not in self._pages

    def row_of_version(self, version: int) -> int | None:
        if not 1 <= version <= self._total:
            return None
        return self._total - version if self.descending else version - 1

    def _cached(self, page: int) -> dict[int, RecordedEvent] | None:
        """A cached page (now the most recently used), or None after asking for it."""
        events = self._pages.get(page)
        if events is not None:
            self._pages.move_to_end(page)
            return events
        store, aggregate_id = self._store, self._aggregate_id
        if store is not None and aggregate_id is not None and page not in self._requested:
            self._requested.add(page)
            first = page * PAGE_SIZE
            self._requests.submit(
                lambda: store.read_stream(aggregate_id, after_version=first,
                                          to_version=first + PAGE_SIZE),
                lambda events: self._page_arrived(page, events), self._on_failed)
        return None

    def _page_arrived(self, page: int, events: list[RecordedEvent]) -> None:
        self._requested.discard(page)
        cached = self._pages.setdefault(page, {})  # live events may be there already
        cached.update({e.version: e for e in events})
        for version in [v for v in self._unpaged if (v - 1) // PAGE_SIZE == page]:
            cached[version] = self._unpaged.pop(version)
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        ends = [self.row_of_version(v) for v in (page * PAGE_SIZE + 1,
                                                 min((page + 1) * PAGE_SIZE, self._total))]
        rows = [row for row in ends if row is not None]
        if rows:
            first, last = min(rows), max(rows)
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(_COLUMNS) - 1))
            self.sig_page_loaded.emit(first, last)

    def append_recorded(self, events: Sequence[RecordedEvent]) -> None:
        """Live: events just recorded (only the shown aggregate's are taken; nothing is
        read: they go into their pages as they are)."""
        mine = [e for e in events if e.aggregate_id == self._aggregate_id]
        if self.loading:
            self._early += mine
            return
        fresh = [e for e in mine if e.version > self._total]
        if not fresh:
            return
        for event in fresh:
            page = (event.version - 1) // PAGE_SIZE
            if page in self._pages or (event.version - 1) % PAGE_SIZE == 0:
                self._pages.setdefault(page, {})[event.version] = event
            else:  # its page is not here (or on its way): keep it for when it comes
                self._unpaged[event.version] = event
        newest = fresh[-1]
        self.info = StreamInfo(newest.aggregate_id, newest.aggregate_type, newest.version,
                               newest.version, newest.recorded_at_text, newest.position)
        first, last = (0, newest.version - self._total - 1) if self.descending else \
            (self._total, newest.version - 1)  # newest first: the new versions go on top
        self.beginInsertRows(QModelIndex(), first, last)
        self._total = newest.version
        self.endInsertRows()
