"""A projection row's history: every event that changed the row, oldest first, with the
fields it changed (before → after); the selected change shows the row's complete values
before and after. Read from the application's row lineage (`Application.row_history`, the
row's events folded through its projection) off the UI thread. Double-clicking a change
jumps to its event."""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from incident_core.ports.values import LineageEntry
from incident_gui.models.event_cells import type_icon
from incident_gui.presentation.formatting import local_time, plural
from incident_gui.presentation.naming import named
from incident_gui.tasks.workers import OperationWorker, call_operation
from incident_gui.widgets.json_tree import JsonTree

__all__ = ["RowHistoryDialog", "change_text"]

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 21


def _short(value: Any) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= 32 else text[:29] + "…"


def change_text(entry: LineageEntry) -> str:
    """`balance: 5 → 65; version: 2 → 3` (all fields of a created or deleted row)."""
    before, after = entry.before or {}, entry.after or {}
    return "; ".join(f"{name}: {_short(before.get(name))} → {_short(after.get(name))}"
                     for name in entry.changed_fields)


class HistorySource(Protocol):
    """What the dialog reads a row's history from (the application: lineage is derived
    from the log by the domain's projections)."""

    def row_history(self, projection: str, key: str) -> list[LineageEntry]: ...


class RowHistoryDialog(QDialog):
    """`rowHistoryDialog`: the lineage of one row of one projection."""

    sig_event_requested = Signal(str)  # event id to jump to

    def __init__(self, store: HistorySource, projection: str, key: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rowHistoryDialog")
        self.setWindowTitle(f"History of {projection} · {key}")
        self.projection, self.key = projection, key
        self.entries: list[LineageEntry] = []
        self.info = named(QLabel("Reading the row's history…"), "rowHistoryInfo")
        self.info.setWordWrap(True)
        self.tree = named(QTreeWidget(), "rowHistoryTree")
        self.tree.setHeaderLabels(["Position", "Event", "Recorded", "Change", "Fields changed"])
        self.tree.setRootIsDecorated(False)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemDoubleClicked.connect(self._on_activated)
        self.tree.itemActivated.connect(self._on_activated)
        self.before = JsonTree("rowBefore", self)
        self.after = JsonTree("rowAfter", self)
        values = QSplitter(Qt.Orientation.Horizontal)
        for caption, tree in (("Before", self.before), ("After", self.after)):
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(QLabel(f"<b>{caption}</b>"))
            column.addWidget(tree, 1)
            values.addWidget(box)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.tree)
        body.addWidget(values)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(body, 1)
        self.resize(820, 520)
        worker: OperationWorker[list[LineageEntry]] = OperationWorker(
            lambda: call_operation(lambda: store.row_history(projection, key)))
        worker.signals.finished.connect(self.show_entries)
        worker.signals.errored.connect(
            lambda message, _details: self.info.setText(f"Cannot read the history: {message}"))
        self._worker = worker
        worker.start()

    def show_entries(self, entries: list[LineageEntry]) -> None:
        self.entries = entries
        self.tree.clear()
        if not entries:
            self.info.setText(f"No event changed {self.key!r} in {self.projection} "
                              "(or the projection's lineage is off)")
            return
        self.info.setText(f"{plural(len(entries), 'event')} changed {self.key!r} in "
                          f"{self.projection}. Double-click one to open it.")
        for entry in entries:
            item = QTreeWidgetItem(self.tree, [
                f"#{entry.position}", entry.event_type, local_time(entry.recorded_at),
                entry.kind, change_text(entry)])
            item.setIcon(1, type_icon(entry.event_type))
            item.setData(0, ENTRY_ROLE, entry.position)
        for column in range(4):
            self.tree.resizeColumnToContents(column)
        last = self.tree.topLevelItem(len(entries) - 1)
        if last is not None:
            self.tree.setCurrentItem(last)

    def _entry(self, item: QTreeWidgetItem | None) -> LineageEntry | None:
        if item is None:
            return None
        index = self.tree.indexOfTopLevelItem(item)
        return self.entries[index] if 0 <= index < len(self.entries) else None

    def _on_current(self, item: QTreeWidgetItem | None, _previous: object = None) -> None:
        entry = self._entry(item)
        for tree, values in ((self.before, None if entry is None else entry.before),
                             (self.after, None if entry is None else entry.after)):
            if values is None:
                tree.clear()
            else:
                tree.show_sections({"row": values})

    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        entry = self._entry(item)
        if entry is not None:
            self.sig_event_requested.emit(entry.event_id)
