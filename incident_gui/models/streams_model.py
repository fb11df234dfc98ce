"""Every aggregate's stream, paged lazily by keyset in the store's sort order, filterable.

The default order is last activity, newest first: what just changed is on top. A header
click sorts by that column instead (the store sorts; each page continues after the cursor
of the last loaded row). With a loader (the window's), the count and every page are read
on the loader's thread, never on the UI thread; meanwhile `is_loading()` is True (the
panel says "Sorting…" or "Filtering…"), and an answer overtaken by another store, filter
or order is dropped. A first page read elsewhere (`read_first_streams`) handed to
`set_store` is shown at once (the window's open reads the global log's first page instead;
the list reads its own on its loader as the store opens). The count comes
after the first page (it walks every stream, a moment at ten million events): until it
arrives `counted` is False and `total` only says whether more rows follow. A bare model
(no loader) reads where it is called. What is read (the filter rule, the first page, a
`StreamQuery`'s count and pages) is in `stream_reads`, plain Python.

As of a past position (`set_as_of`), the rows are the streams as they stood then (version,
event count and last time counting only the events up to it), in aggregate id order, read
on the loader thread; live changes are ignored until `set_as_of(None)` returns to the
present.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
from incident_core.ports.sorting import SortKey, stream_cursor
from incident_gui.models.sort_order import SortedRows
from incident_gui.models.stream_reads import (
    ID_ORDER,
    LAST_ACTIVITY,
    PAGE_SIZE,
    FirstStreams,
    StreamQuery,
    pattern_matches,
    read_first_streams,
)
from incident_gui.presentation.formatting import local_time, utc_tooltip
from incident_gui.tasks.query_lane import QueryLane, Requests

__all__ = ["ID_ORDER", "LAST_ACTIVITY", "PAGE_SIZE", "STREAM_ROLE", "FirstStreams",
           "StreamsModel", "pattern_matches", "read_first_streams"]

STREAM_ROLE = Qt.ItemDataRole.UserRole + 2
_COLUMNS = ("Aggregate", "Type", "Version", "Events", "Last recorded")
_SORT_COLUMNS = ("aggregate_id", "aggregate_type", "version", "event_count", "last_position")
Index = QModelIndex | QPersistentModelIndex


def _rows(sort: SortKey) -> SortedRows[StreamInfo]:
    return SortedRows(sort, stream_cursor, lambda info: info.aggregate_id)


class StreamsModel(QAbstractTableModel):
    """Rows are `StreamInfo` in the sort order; `fetchMore` loads the next page."""

    sig_loaded = Signal()  # a page (or the count) arrived
    sig_sort_changed = Signal(object)  # SortKey
    sig_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, loader: QueryLane | None = None,
                 counter: QueryLane | None = None) -> None:
        """`counter`: a lane for the counts (default: the loader), so that a page never
        waits behind the count of the previous filter (a pass over every stream)."""
        super().__init__(parent)
        self._loader = None if loader is None else Requests(loader)
        self._counts = None if loader is None else Requests(counter or loader)
        self._loading = False
        self._store: EventStore | None = None
        self._pattern: str | None = None
        self._aggregate_type: str | None = None
        self._sort = LAST_ACTIVITY
        self._rows = _rows(self._sort)
        self._total = 0
        self._counted = True  # False: `_total` only says whether more rows follow
        self._as_of: int | None = None

    # -- configuration ----------------------------------------------------------------
    def set_store(self, store: EventStore | None, first: FirstStreams | None = None) -> None:
        """Show `store`'s streams (another store starts in the present); `first`, read
        with the open, is shown at once if it is what the filter and order ask for."""
        self._store = store
        self._as_of = None
        if first is None or self._pattern or self._aggregate_type or self._sort != LAST_ACTIVITY:
            self.reload()
            return
        self.beginResetModel()
        self._reset_reads()
        self._rows, self._loading = _rows(self._sort), False
        self._total, self._counted = first.total or 0, first.total is not None
        self.endResetModel()
        self._add_page(first.page)
        if not self._counted and store is not None:
            self._count(store.stream_count)
        self.sig_loaded.emit()

    def _count(self, counter: Callable[[], int]) -> None:
        """Count the streams on the counter lane, once the first page is shown."""
        if self._counts is None:
            self._on_count(counter())
            return
        self._counts.submit(counter, self._on_count, self._on_failed)

    def _reset_reads(self) -> None:
        """Drop every read asked so far (their answers are stale now)."""
        for requests in (self._loader, self._counts):
            if requests is not None:
                requests.reset()

    def _on_first_page(self, page: list[StreamInfo], counter: Callable[[], int]) -> None:
        self._on_page(page)
        if not self._counted:  # (a short page counted them all)
            self._count(counter)

    def _on_count(self, count: int) -> None:
        self._total, self._counted = max(count, len(self._rows)), True
        self.sig_loaded.emit()

    def set_filter(self, pattern: str | None, aggregate_type: str | None, *,
                   reload: bool = True) -> None:
        self._pattern = pattern or None
        self._aggregate_type = aggregate_type or None
        if reload:
            self.reload()

    @property
    def sort_key(self) -> SortKey:
        return ID_ORDER if self._as_of is not None else self._sort

    @property
    def as_of(self) -> int | None:
        """The past position shown (None: the present)."""
        return self._as_of

    def set_as_of(self, position: int | None) -> None:
        """Show the streams as they stood after `position` (None: now), and reload."""
        if position != self._as_of:
            self._as_of = position
            self.reload()

    def set_sort(self, sort: SortKey) -> None:
        if sort != self._sort:
            self._sort = sort
            self.reload()
            self.sig_sort_changed.emit(sort)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's header click: the store sorts by that column."""
        if 0 <= column < len(_SORT_COLUMNS):
            self.set_sort(SortKey(_SORT_COLUMNS[column],
                                  order == Qt.SortOrder.DescendingOrder))

    @staticmethod
    def sort_section(sort: SortKey) -> int:
        return _SORT_COLUMNS.index(sort.column)

    def _query(self, store: EventStore) -> StreamQuery:
        """What the list reads now (its filter, order and moment); the loader runs it."""
        return StreamQuery(store, self._aggregate_type, self._pattern, self._sort,
                           self._as_of)

    def reload(self) -> None:
        """Read again: the first page, then the count."""
        self.beginResetModel()
        self._reset_reads()
        self._rows = _rows(self.sort_key)
        self._loading, self._counted = False, True
        store = self._store
        if store is None:
            self._total = 0
        elif self._loader is not None:
            query = self._query(store)
            self._total, self._loading, self._counted = 0, True, False
            self._loader.submit(query.page, lambda rows: self._on_first_page(rows, query.count),
                                self._on_failed)  # the count is asked once it is shown
        else:  # no loader (a bare model): read here
            query = self._query(store)
            self._total = query.count()
            self._rows.extend(query.page())
        self.endResetModel()
        if self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())
        self.sig_loaded.emit()

    def is_loading(self) -> bool:
        return self._loading

    @property
    def total(self) -> int:
        """How many streams match the filter (loaded or not; until `counted`, more than
        are loaded when more pages follow)."""
        return self._total

    @property
    def counted(self) -> bool:
        """Whether `total` is the count (False: it is being read)."""
        return self._counted

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
        query, last = self._query(store), self._rows.last()
        if self._loader is not None:  # every read of the window's list runs on it
            self._loading = True
            self._loader.submit(lambda: query.page(last), self._on_page, self._on_failed)
            return
        self._add_page(query.page(last))

    def _on_page(self, page: list[StreamInfo]) -> None:
        self._loading = False
        self._add_page(page)
        self.sig_loaded.emit()

    def _on_failed(self, message: str, _details: str) -> None:
        self._loading = False
        self.sig_failed.emit(message)

    def _add_page(self, page: list[StreamInfo]) -> None:
        if len(page) < PAGE_SIZE:
            self._total = len(self._rows) + len(page)
            self._counted = True  # the last page: every stream is loaded
        elif not self._counted:  # a full page: more may follow
            self._total = max(self._total, len(self._rows) + len(page) + 1)
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        info = self._rows.at(index.row()) if index.isValid() else None
        if info is None:
            return None
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
        return self._rows.row_of(aggregate_id)

    def info_at(self, row: int) -> StreamInfo | None:
        return self._rows.at(row)

    def loaded_past(self, info: StreamInfo) -> bool:
        """True when the loaded rows reach where `info` sorts (if it is not among them, the
        filter leaves it out); False when a later page may still bring it."""
        return self._rows.insertion_row(info, complete=not self.canFetchMore(QModelIndex())) \
            is not None

    def _wanted(self, info: StreamInfo) -> bool:
        if self._aggregate_type and info.aggregate_type != self._aggregate_type:
            return False
        return pattern_matches(info.aggregate_id, self._pattern)

    def apply_changes(self, infos: Iterable[StreamInfo], new_ids: set[str]) -> None:
        """Show the new state of streams that just received events; `new_ids` are the
        streams that did not exist before. A loaded row moves to where its new values sort
        (its selection moves with it); a stream that now sorts beyond the loaded rows
        leaves them until `fetchMore` reaches it. (While a filtered reload is reading, its
        answer will include them.)"""
        if self._loading or self._as_of is not None:
            return
        for info in infos:
            if self._wanted(info):
                self._apply_one(info, info.aggregate_id in new_ids)

    def _apply_one(self, info: StreamInfo, is_new: bool) -> None:
        complete = len(self._rows) >= self._total
        old = self._rows.row_of(info.aggregate_id)
        if old is None:
            if not is_new:
                return  # not loaded yet: a later page shows it as it is then
            self._total += 1
            at = self._rows.insertion_row(info, complete=complete)
            if at is not None:
                self.beginInsertRows(QModelIndex(), at, at)
                self._rows.insert(at, info)
                self.endInsertRows()
            return
        previous = self._rows.remove(old)  # where would it go? (restored at once)
        at = self._rows.insertion_row(info, complete=complete)
        self._rows.insert(old, previous)
        if at is None:
            self.beginRemoveRows(QModelIndex(), old, old)
            self._rows.remove(old)
            self.endRemoveRows()
            return
        if at != old:
            self.beginMoveRows(QModelIndex(), old, old, QModelIndex(), at if at < old else at + 1)
        self._rows.remove(old)
        self._rows.insert(at, info)
        if at != old:
            self.endMoveRows()
        self.dataChanged.emit(self.index(at, 0), self.index(at, len(_COLUMNS) - 1))
