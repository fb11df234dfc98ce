"""A projection's rows for a table view: read off the UI thread, shown a page at a time.

`read_snapshot` is what a projection tab runs on a worker thread when it (re)loads: the
row count, the first pages (keyset, as many as the view had loaded), the head and the
projection's checkpoint, with every cell already turned into its text. The UI thread only
applies the `RowsSnapshot` to `ProjectionRowsModel`; later pages (`fetchMore`, one keyset
`LIMIT PAGE_SIZE` query) are read on demand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from incident_core.ports import EventStore
from incident_core.ports.sorting import SortKey
from incident_core.projections import ProjectionSpec

__all__ = ["PAGE_SIZE", "ProjectionRowsModel", "RowsSnapshot", "cell_text", "read_snapshot"]

PAGE_SIZE = 200
ModelIndex = QModelIndex | QPersistentModelIndex


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def _texts(spec: ProjectionSpec, rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    names = [c.name for c in spec.columns]
    return [tuple(cell_text(row.get(name)) for name in names) for row in rows]


@dataclass(frozen=True)
class RowsSnapshot:
    """What one read of a projection found (the first `len(rows)` rows in key order)."""

    rows: list[dict[str, Any]]
    texts: list[tuple[str, ...]]
    total: int
    exhausted: bool
    head: int
    checkpoint: int | None


def read_page(store: EventStore, spec: ProjectionSpec, sort: SortKey | None,
              last: dict[str, Any] | None, limit: int) -> list[dict[str, Any]]:
    """The rows after `last` in key order, or in `sort` order (the store sorts)."""
    if sort is None:
        return store.projection_rows(spec, after_key=None if last is None else
                                     str(last[spec.key]), limit=limit)
    after = None if last is None else (last[sort.column], last[spec.key])
    return store.projection_rows_sorted(spec, sort, after=after, limit=limit)


def read_snapshot(store: EventStore, spec: ProjectionSpec, wanted: int,
                  page_size: int = PAGE_SIZE, sort: SortKey | None = None) -> RowsSnapshot:
    """Read the count and at least `wanted` rows (whole pages), then the head and the
    checkpoint. Blocking: call it on a worker thread."""
    total = store.projection_row_count(spec)
    rows: list[dict[str, Any]] = []
    exhausted = total == 0
    while not exhausted and len(rows) < wanted:
        page = read_page(store, spec, sort, rows[-1] if rows else None, page_size)
        rows.extend(page)
        exhausted = len(page) < page_size
    head = store.head()
    checkpoint = store.checkpoints().get(spec.name)
    return RowsSnapshot(rows, _texts(spec, rows), max(total, len(rows)), exhausted, head,
                        checkpoint)


class ProjectionRowsModel(QAbstractTableModel):
    """A projection's rows in key order (or sorted by a column: a header click asks for
    it with `sig_sort_requested`), loaded a page at a time (never all at once).

    `apply` shows a snapshot read elsewhere; while a read is pending (`set_loading`) the
    model fetches nothing more, so the pages it appends always continue what it shows.
    """

    sig_sort_requested = Signal(object)  # SortKey or None (key order)

    def __init__(self, store: EventStore, spec: ProjectionSpec,
                 page_size: int = PAGE_SIZE) -> None:
        super().__init__()
        self.sort_key: SortKey | None = None
        self.store = store
        self.spec = spec
        self.page_size = page_size
        self._columns = [c.name for c in spec.columns]
        self._numeric = {c.name for c in spec.columns if c.kind in ("integer", "float")}
        self._rows: list[dict[str, Any]] = []
        self._texts: list[tuple[str, ...]] = []
        self._total = 0
        self._exhausted = True
        self._loading = False

    # -- loading ------------------------------------------------------------------------
    def apply(self, snapshot: RowsSnapshot) -> None:
        """Show the rows of `snapshot` instead of the loaded ones."""
        self.beginResetModel()
        self._rows, self._texts = snapshot.rows, snapshot.texts
        self._total, self._exhausted = snapshot.total, snapshot.exhausted
        self.endResetModel()

    def set_loading(self, loading: bool) -> None:
        self._loading = loading

    @property
    def total(self) -> int:
        return self._total

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        page = read_page(self.store, self.spec, self.sort_key,
                         self._rows[-1] if self._rows else None, self.page_size)
        if len(page) < self.page_size:
            self._exhausted = True
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self._texts.extend(_texts(self.spec, page))
        self.endInsertRows()
        self._total = max(self._total, len(self._rows))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's header click: ask for the rows sorted by that column (by the store)."""
        if not 0 <= column < len(self._columns):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        name = self._columns[column]
        wanted = None if name == self.spec.key and not descending else SortKey(name, descending)
        if wanted != self.sort_key:
            self.sort_key = wanted
            self.sig_sort_requested.emit(wanted)

    def sort_section(self) -> tuple[int, Qt.SortOrder]:
        sort = self.sort_key or SortKey(self.spec.key)
        return self._columns.index(sort.column), (
            Qt.SortOrder.DescendingOrder if sort.descending else Qt.SortOrder.AscendingOrder)

    def clear(self) -> None:
        """Show no rows (before a read in another order)."""
        self.beginResetModel()
        self._rows, self._texts = [], []
        self._exhausted = True
        self.endResetModel()

    def row_key(self, number: int) -> str:
        return str(self._rows[number][self.spec.key])

    def column_name(self, column: int) -> str:
        return self._columns[column]

    # -- the model ----------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def row(self, number: int) -> dict[str, Any]:
        return self._rows[number]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._texts[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and \
                self._columns[index.column()] in self._numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._columns[section]
        return str(section + 1)
