"""A collapsible tree of JSON values (objects and arrays fold; leaves show JSON text)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from incident_gui.presentation.formatting import compact_json, plural

__all__ = ["JSON_VALUE_ROLE", "JsonTree", "add_json_item", "tree_children"]

JSON_VALUE_ROLE = Qt.ItemDataRole.UserRole + 3


def _leaf_text(value: Any) -> str:
    return value if isinstance(value, str) else compact_json(value)


def add_json_item(parent: QTreeWidget | QTreeWidgetItem, key: str, value: Any) -> QTreeWidgetItem:
    """Add `key: value` under `parent`, recursing into objects and arrays."""
    item = QTreeWidgetItem(parent)
    item.setText(0, key)
    item.setData(0, JSON_VALUE_ROLE, value)
    if isinstance(value, dict):
        item.setText(1, "{" + plural(len(value), "field") + "}" if value else "{}")
        for child_key, child in value.items():
            add_json_item(item, str(child_key), child)
    elif isinstance(value, list):
        item.setText(1, f"[{len(value)} items]" if value else "[]")
        for number, child in enumerate(value):
            add_json_item(item, f"[{number}]", child)
    else:
        text = _leaf_text(value)
        item.setText(1, text)
        item.setToolTip(1, text)
    return item


def tree_children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    """The children of a tree item (never None)."""
    return [child for i in range(item.childCount()) if (child := item.child(i)) is not None]


class JsonTree(QTreeWidget):
    """Key / value columns; `show_sections` fills it with named top-level objects."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setColumnCount(2)
        self.setHeaderLabels(["Key", "Value"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.header().setStretchLastSection(True)

    def show_sections(self, sections: dict[str, Any]) -> None:
        self.clear()
        for key, value in sections.items():
            add_json_item(self, key, value)
        self.expandToDepth(1)

    def item_for_path(self, *path: str) -> QTreeWidgetItem | None:
        """The item at a key path (tests and links): e.g. ('data', 'amount')."""
        found: QTreeWidgetItem | None = self.invisibleRootItem()
        for key in path:
            if found is None:
                return None
            found = next((child for child in tree_children(found) if child.text(0) == key), None)
        return found
