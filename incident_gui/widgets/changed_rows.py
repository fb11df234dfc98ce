"""The "Rows it changed" group of the event detail's related tree: each projection row the
event changed (from the store's row lineage), with the fields it changed; clicking one
opens the row's history."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from incident_core.ports.values import LineageEntry

__all__ = ["ROW_ROLE", "add_changed_rows"]

ROW_ROLE = Qt.ItemDataRole.UserRole + 22  # (projection, row key) of a changed row


def add_changed_rows(tree: QTreeWidget, entries: list[LineageEntry], *,
                     index: int = 1) -> QTreeWidgetItem:
    """Add the group as top-level item `index` (after "Caused by this event": the
    correlation's list may be long)."""
    group = QTreeWidgetItem([f"Rows it changed ({len(entries)})"])
    tree.insertTopLevelItem(min(index, tree.topLevelItemCount()), group)
    group.setData(0, Qt.ItemDataRole.UserRole, "rows")
    group.setFlags(Qt.ItemFlag.ItemIsEnabled)
    for entry in entries:
        fields = ", ".join(entry.changed_fields)
        item = QTreeWidgetItem(group, [f"{entry.projection} · {entry.row_key}",
                                       f"{entry.kind}: {fields}" if fields else entry.kind,
                                       f"#{entry.position}"])
        item.setData(0, ROW_ROLE, (entry.projection, entry.row_key))
        item.setToolTip(0, "Click to see this row's history")
    return group
