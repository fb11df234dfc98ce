"""Every aggregate's stream, paged lazily by aggregate id (keyset), filterable.

Unfiltered (or filtered by type, which has an index) pages are read on the UI thread —
a keyset page by primary key takes a few milliseconds. A text/glob pattern has no index:
counting and paging then scan the streams, so with a loader they run off the UI thread.
"""

from __future__ import annotations

import bisect
import fnmatch
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from incident_core import EventStore, StreamInfo
from incident_gui.formatting import local_time, utc_tooltip
from incident_gui.query_thread import QueryThread

__all__ = ["STREAM_ROLE", "StreamsModel", "pattern_matches"]

STREAM_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE_SIZE = 500
_COLUMNS = ("Aggregate", "Type", "Version", "Events", "Last recorded")
Index = QModelIndex | QPersistentModelIndex


def pattern_matches(aggregate_id: str, pattern: str | None) -> bool:
    """The store's filter rule: a case-insensitive glob with * or ?, else a substring."""
    if not pattern:
        return True
    if "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(aggregate_id.lower(), pattern.lower())
    return pattern.lower() in aggregate_id.lower()


class StreamsModel(QAbstractTableModel):
    """Rows are `StreamInfo` ordered by aggregate id; `fetchMore` loads the next page."""

    sig_loaded = Signal()  # a page (or the count) arrived
    sig_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *,
                 loader: QueryThread | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        if loader is not None:
            loader.sig_done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
            loader.sig_failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        self._generation = 0
        self._loading = False
        self._store: EventStore | None = None
        self._pattern: str | None = None
        self._aggregate_type: str | None = None
        self._rows: list[StreamInfo] = []
        self._ids: list[str] = []
        self._total = 0

    # -- configuration ----------------------------------------------------------------
    def set_store(self, store: EventStore | None) -> None:
        self._store = store
        self.reload()

    def set_filter(self, pattern: str | None, aggregate_type: str | None) -> None:
        self._pattern = pattern or None
        self._aggregate_type = aggregate_type or None
        self.reload()

    def _off_thread(self) -> bool:
        return self._loader is not None and bool(self._pattern)

    def reload(self) -> None:
        self.beginResetModel()
        self._generation += 1
        self._rows, self._ids = [], []
        self._loading = False
        store, kind, pattern = self._store, self._aggregate_type, self._pattern
        if store is None:
            self._total = 0
        elif self._off_thread() and self._loader is not None:
            self._total, self._loading = 0, True
            self._loader.submit((self._generation, "first"), lambda: (
                store.stream_count(aggregate_type=kind, pattern=pattern),
                store.streams(aggregate_type=kind, pattern=pattern, limit=PAGE_SIZE)))
        else:
            self._total = store.stream_count(aggregate_type=kind, pattern=pattern)
        self.endResetModel()
        if self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())
        self.sig_loaded.emit()

    def is_loading(self) -> bool:
        return self._loading

    @property
    def total(self) -> int:
        """How many streams match the filter (loaded or not)."""
        return self._total

    # -- Qt model API -------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[section]
        return None

    def canFetchMore(self, parent: Index) -> bool:
        return (not parent.isValid() and self._store is not None and not self._loading
                and len(self._rows) < self._total)

    def fetchMore(self, parent: Index) -> None:
        store = self._store
        if not self.canFetchMore(parent) or store is None:
            return
        after = self._ids[-1] if self._ids else None
        kind, pattern = self._aggregate_type, self._pattern
        if self._off_thread() and self._loader is not None:
            self._loading = True
            self._loader.submit((self._generation, "after", after), lambda: store.streams(
                aggregate_type=kind, pattern=pattern, after_id=after, limit=PAGE_SIZE))
            return
        self._add_page(store.streams(aggregate_type=kind, pattern=pattern, after_id=after,
                                     limit=PAGE_SIZE))

    def _on_done(self, key: object, result: object) -> None:
        if not isinstance(key, tuple) or key[0] != self._generation:
            return
        self._loading = False
        if key[1] == "first" and isinstance(result, tuple):
            self._total, page = result
            self._add_page(page)
        elif key[1] == "after" and isinstance(result, list):
            self._add_page(result)
        self.sig_loaded.emit()

    def _on_failed(self, key: object, message: str, _details: str) -> None:
        if isinstance(key, tuple) and key[0] == self._generation:
            self._loading = False
            self.sig_failed.emit(message)

    def _add_page(self, page: list[StreamInfo]) -> None:
        if len(page) < PAGE_SIZE:
            self._total = len(self._rows) + len(page)
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self._ids.extend(info.aggregate_id for info in page)
        self.endInsertRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        info = self._rows[index.row()]
        if role == STREAM_ROLE:
            return info
        column = index.column()
        if role == Qt.ItemDataRole.ToolTipRole and column == 4:
            return utc_tooltip(info.last_recorded_at)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (info.aggregate_id, info.aggregate_type, str(info.version),
                str(info.event_count), local_time(info.last_recorded_at))[column]

    # -- lookups and live updates ---------------------------------------------------------
    def row_of(self, aggregate_id: str) -> int | None:
        """The row of a loaded stream, or None."""
        at = bisect.bisect_left(self._ids, aggregate_id)
        return at if at < len(self._ids) and self._ids[at] == aggregate_id else None

    def info_at(self, row: int) -> StreamInfo | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def _wanted(self, info: StreamInfo) -> bool:
        if self._aggregate_type and info.aggregate_type != self._aggregate_type:
            return False
        return pattern_matches(info.aggregate_id, self._pattern)

    def apply_changes(self, infos: Iterable[StreamInfo], new_ids: set[str]) -> None:
        """Show the new state of streams that just received events; `new_ids` are the
        streams that did not exist before. Loaded rows are updated in place; new streams
        inside the loaded range are inserted in order, others wait for `fetchMore`.
        (While a filtered reload is reading, its answer will include them.)"""
        if self._loading:
            return
        for info in infos:
            if not self._wanted(info):
                continue
            row = self.row_of(info.aggregate_id)
            if row is not None:
                self._rows[row] = info
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(_COLUMNS) - 1))
                continue
            if info.aggregate_id not in new_ids:
                continue
            self._total += 1
            fully_loaded = len(self._rows) == self._total - 1
            at = bisect.bisect_left(self._ids, info.aggregate_id)
            if at < len(self._ids) or fully_loaded:
                self.beginInsertRows(QModelIndex(), at, at)
                self._rows.insert(at, info)
                self._ids.insert(at, info.aggregate_id)
                self.endInsertRows()
