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

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from incident_core.projections import ProjectionSpec
from incident_core.store.base import EventStore

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


def read_snapshot(store: EventStore, spec: ProjectionSpec, wanted: int,
                  page_size: int = PAGE_SIZE) -> RowsSnapshot:
    """Read the count and at least `wanted` rows (whole pages), then the head and the
    checkpoint. Blocking: call it on a worker thread."""
    total = store.projection_row_count(spec)
    rows: list[dict[str, Any]] = []
    exhausted = total == 0
    while not exhausted and len(rows) < wanted:
        after = str(rows[-1][spec.key]) if rows else None
        page = store.projection_rows(spec, after_key=after, limit=page_size)
        rows.extend(page)
        exhausted = len(page) < page_size
    head = store.head()
    checkpoint = store.checkpoints().get(spec.name)
    return RowsSnapshot(rows, _texts(spec, rows), max(total, len(rows)), exhausted, head,
                        checkpoint)


class ProjectionRowsModel(QAbstractTableModel):
    """A projection's rows in key order, loaded a page at a time (never all at once).

    `apply` shows a snapshot read elsewhere; while a read is pending (`set_loading`) the
    model fetches nothing more, so the pages it appends always continue what it shows.
    """

    def __init__(self, store: EventStore, spec: ProjectionSpec,
                 page_size: int = PAGE_SIZE) -> None:
        super().__init__()
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
        after = str(self._rows[-1][self.spec.key]) if self._rows else None
        page = self.store.projection_rows(self.spec, after_key=after, limit=self.page_size)
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
