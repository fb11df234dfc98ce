"""A table view set up for event rows (timeline, global log): compact, keyboard-friendly."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

__all__ = ["EventTable", "RowTable"]


class RowTable(QTableView):
    """A table of whole rows: Home and End go to the first and last row (a plain table
    view moves between columns, which means nothing when whole rows are selected). Tab
    and Shift+Tab leave the table for the next widget instead of walking its cells."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabKeyNavigation(False)

    def moveCursor(self, action: QAbstractItemView.CursorAction,
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        if action in (QAbstractItemView.CursorAction.MoveHome,
                      QAbstractItemView.CursorAction.MoveEnd):
            modifiers |= Qt.KeyboardModifier.ControlModifier
        return super().moveCursor(action, modifiers)


class EventTable(RowTable):
    """Whole-row single selection, no grid, uniform row heights (fast with many rows)."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setHighlightSections(False)

    def set_column_samples(self, samples: list[str]) -> None:
        """Size the columns (but the last) to fit sample texts plus an icon."""
        width = self.fontMetrics().horizontalAdvance
        for column, sample in enumerate(samples):
            self.setColumnWidth(column, width(sample) + 34)
