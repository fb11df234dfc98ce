"""One aggregate's events by version, paged lazily.

Versions of a stream are contiguous from 1, so row r shows version r + 1: `rowCount()` is
the stream's version, and a page of `read_stream(after_version=, to_version=)` (one index
range query) is read the first time one of its rows is shown. Pages live in a small LRU
cache, so a stream of a million events scrolls, and jumps to any version, in one query.
A click on the Version (or Recorded) header turns the order around: newest first, row r
then shows version N - r (versions are recorded in time order, so both columns sort
alike; the event type and data do not sort).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from incident_core import EventStore, RecordedEvent
from incident_gui.models.event_cells import KnowsEvent, event_cell

__all__ = ["PAGE_SIZE", "TimelineModel"]

PAGE_SIZE = 500
MAX_CACHED_PAGES = 40
_COLUMNS = (("version", "Version"), ("type", "Event type"), ("recorded", "Recorded"),
            ("summary", "Data"))
Index = QModelIndex | QPersistentModelIndex


def _knows_everything(_event_type: str) -> bool:
    return True


class TimelineModel(QAbstractTableModel):
    """Rows are the selected aggregate's versions 1..N."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store: EventStore | None = None
        self._knows: KnowsEvent = _knows_everything
        self._aggregate_id: str | None = None
        self._pages: OrderedDict[int, dict[int, RecordedEvent]] = OrderedDict()
        self._total = 0
        self.descending = False

    def set_store(self, store: EventStore | None, knows: KnowsEvent) -> None:
        self._store = store
        self._knows = knows
        self.set_aggregate(None)

    def set_aggregate(self, aggregate_id: str | None) -> None:
        self.beginResetModel()
        self._aggregate_id = aggregate_id
        self._pages.clear()
        info = None
        if self._store is not None and aggregate_id is not None:
            info = self._store.stream(aggregate_id)
        self._total = 0 if info is None else info.version
        self.endResetModel()

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
        event = self.event_at(index.row())
        if event is not None:
            return event_cell(event, column, role, self._knows)
        if role == Qt.ItemDataRole.DisplayRole:  # a version missing from the stream
            version = str(self._version_of(index.row()))
            return {"version": version, "type": "(missing)"}.get(column, "")
        return None

    # -- rows -------------------------------------------------------------------------------
    def event_at(self, row: int) -> RecordedEvent | None:
        """The event shown in `row` (its page is read if needed)."""
        if not 0 <= row < self._total:
            return None
        version = self._version_of(row)
        return self._page((version - 1) // PAGE_SIZE).get(version)

    def row_of_version(self, version: int) -> int | None:
        if not 1 <= version <= self._total:
            return None
        return self._total - version if self.descending else version - 1

    def _page(self, page: int) -> dict[int, RecordedEvent]:
        events = self._pages.get(page)
        if events is not None:
            self._pages.move_to_end(page)
            return events
        events = {}
        if self._store is not None and self._aggregate_id is not None:
            first = page * PAGE_SIZE
            events = {e.version: e for e in self._store.read_stream(
                self._aggregate_id, after_version=first, to_version=first + PAGE_SIZE)}
        self._pages[page] = events
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        return events

    def append_recorded(self, events: Sequence[RecordedEvent]) -> None:
        """Live: events just recorded (only the shown aggregate's are taken)."""
        newest = max((e.version for e in events if e.aggregate_id == self._aggregate_id),
                     default=0)
        if newest <= self._total:
            return
        if self._total % PAGE_SIZE:  # the last page was partial: read it again
            self._pages.pop(self._total // PAGE_SIZE, None)
        first, last = (0, newest - self._total - 1) if self.descending else \
            (self._total, newest - 1)  # newest first: the new versions go on top
        self.beginInsertRows(QModelIndex(), first, last)
        self._total = newest
        self.endInsertRows()
