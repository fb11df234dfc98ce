"""Numbers never elide: widen a table's columns when the values shown in them grow.

A live-updated balance that grows from 999 to 1003 must not show as "10…". `ColumnFitter`
watches the model (rows inserted, data changed, reset) and the scroll bar, and measures
only the changed rows that are in view (about a screenful: a first page of 200 rows costs
no more than the 30 shown, which matters when a reset's delivery and a repaint already
share the UI thread), so it stays cheap on a million-row log. Columns only grow:
shrinking while the user reads would make the table jump. Numeric columns grow to
fit whatever they hold; other columns up to `TEXT_LIMIT` pixels (a JSON cell may be long,
its tooltip shows the whole value). The last, stretched column is left to the header.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QTableView

__all__ = ["TEXT_LIMIT", "ColumnFitter"]

MAX_MEASURED = 200
TEXT_LIMIT = 320
_PADDING = 16  # cell margins and the sort indicator's room
_ICON = 18  # a decoration (the event type's colour dot)
Index = QModelIndex | QPersistentModelIndex


class ColumnFitter(QObject):
    """Keep `columns` of `view` (all but the last when None) wide enough for their text."""

    def __init__(self, view: QTableView, *, numeric: Iterable[int] = (),
                 columns: Iterable[int] | None = None, watch_inserts: bool = True) -> None:
        super().__init__(view)
        self._view = view
        self._numeric = set(numeric)
        self._columns = None if columns is None else list(columns)
        model = view.model()
        if watch_inserts:  # (a lazy model's new rows may not be loaded yet: skip them)
            model.rowsInserted.connect(lambda _p, first, last: self.fit(first, last))
        model.dataChanged.connect(self._on_data_changed)
        model.modelReset.connect(lambda: self.fit(0, MAX_MEASURED - 1))
        view.verticalScrollBar().valueChanged.connect(lambda _value: self.fit_visible())

    def _on_data_changed(self, top_left: Index, bottom_right: Index, *_roles: object) -> None:
        self.fit(top_left.row(), bottom_right.row())

    def columns(self) -> list[int]:
        if self._columns is not None:
            return self._columns
        return list(range(max(self._view.model().columnCount() - 1, 0)))

    def fit_visible(self) -> None:
        """Widen the columns for the rows in view (after a reset that kept the scroll)."""
        self.fit(0, self._view.model().rowCount() - 1)

    def _in_view(self) -> tuple[int, int]:
        """The rows a screen of the view shows from its top row (a view not laid out yet
        counts as a screen of its default rows)."""
        view = self._view
        row_height = max(view.verticalHeader().defaultSectionSize(), 1)
        shown = max(view.viewport().height(), 480) // row_height + 1
        first = max(view.rowAt(0), 0)
        return first, first + min(shown, MAX_MEASURED) - 1

    def fit(self, first: int, last: int) -> None:
        """Widen the watched columns to fit those of rows first..last that are in view."""
        model, view = self._view.model(), self._view
        top, bottom = self._in_view()
        first, last = max(first, top), min(last, bottom, model.rowCount() - 1)
        if last < first:
            return
        width = view.fontMetrics().horizontalAdvance
        for column in self.columns():
            if view.isColumnHidden(column):
                continue
            need = 0
            for row in range(first, last + 1):
                index = model.index(row, column)
                text = index.data(Qt.ItemDataRole.DisplayRole)
                if text:
                    extra = _ICON if index.data(Qt.ItemDataRole.DecorationRole) else 0
                    need = max(need, width(str(text)) + _PADDING + extra)
            if column not in self._numeric:
                need = min(need, TEXT_LIMIT)
            if need > view.columnWidth(column):
                view.setColumnWidth(column, need)
