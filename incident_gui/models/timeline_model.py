"""One aggregate's events by version, paged lazily (`read_stream(after_version=)`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from incident_core import EventStore, RecordedEvent
from incident_gui.models.event_cells import KnowsEvent, event_cell

__all__ = ["TimelineModel"]

PAGE_SIZE = 500
_COLUMNS = (("version", "Version"), ("type", "Event type"), ("recorded", "Recorded"),
            ("summary", "Data"))
Index = QModelIndex | QPersistentModelIndex


def _knows_everything(_event_type: str) -> bool:
    return True


class TimelineModel(QAbstractTableModel):
    """Rows are the selected aggregate's events in version order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store: EventStore | None = None
        self._knows: KnowsEvent = _knows_everything
        self._aggregate_id: str | None = None
        self._rows: list[RecordedEvent] = []
        self._total = 0

    def set_store(self, store: EventStore | None, knows: KnowsEvent) -> None:
        self._store = store
        self._knows = knows
        self.set_aggregate(None)

    def set_aggregate(self, aggregate_id: str | None) -> None:
        self.beginResetModel()
        self._aggregate_id = aggregate_id
        self._rows = []
        info = None
        if self._store is not None and aggregate_id is not None:
            info = self._store.stream(aggregate_id)
        self._total = 0 if info is None else info.version
        self.endResetModel()
        if self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())

    @property
    def aggregate_id(self) -> str | None:
        return self._aggregate_id

    @property
    def total(self) -> int:
        return self._total

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[section][1]
        return None

    def canFetchMore(self, parent: Index) -> bool:
        return (not parent.isValid() and self._store is not None
                and self._aggregate_id is not None and len(self._rows) < self._total)

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent) or self._store is None or self._aggregate_id is None:
            return
        after = self._rows[-1].version if self._rows else 0
        page = self._store.read_stream(self._aggregate_id, after_version=after, limit=PAGE_SIZE)
        if len(page) < PAGE_SIZE:
            self._total = len(self._rows) + len(page)
        self._append(page)

    def _append(self, events: Sequence[RecordedEvent]) -> None:
        if not events:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(events) - 1)
        self._rows.extend(events)
        self.endInsertRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        return event_cell(self._rows[index.row()], _COLUMNS[index.column()][0], role,
                          self._knows)

    def event_at(self, row: int) -> RecordedEvent | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of_version(self, version: int) -> int | None:
        """The row of a loaded version (versions are contiguous from 1)."""
        row = version - 1
        event = self.event_at(row)
        return row if event is not None and event.version == version else None

    def load_through(self, version: int) -> None:
        """Fetch pages until `version` is loaded (for jumping to an event)."""
        while self.canFetchMore(QModelIndex()) and (
                not self._rows or self._rows[-1].version < version):
            self.fetchMore(QModelIndex())

    def append_recorded(self, events: Sequence[RecordedEvent]) -> None:
        """Live: events just recorded for the shown aggregate."""
        mine = [e for e in events if e.aggregate_id == self._aggregate_id]
        if not mine:
            return
        fully_loaded = len(self._rows) == self._total
        last = self._rows[-1].version if self._rows else 0
        fresh = [e for e in mine if e.version > last]
        self._total = max(self._total, fresh[-1].version if fresh else 0)
        if fully_loaded:
            self._append(fresh)
