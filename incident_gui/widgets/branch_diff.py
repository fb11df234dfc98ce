"""`BranchDiffDialog`: a branch compared with its original — streams that differ, events
only in one of them, and projection rows added, removed or changed (before → after)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from incident_core.operations.branch import StoreDiff
from incident_gui.presentation.naming import named

__all__ = ["BranchDiffDialog"]


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class BranchDiffDialog(QDialog):
    """`branchDiffDialog`: one tree, a group per kind of difference."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("branchDiffDialog")
        self.setWindowTitle("Branch compared with the original")
        self.resize(760, 520)
        self.summary = named(QLabel(), "branchDiffSummary")
        self.tree = named(QTreeWidget(), "branchDiffTree")
        self.tree.setHeaderLabels(["Difference", "Original", "Branch"])
        self.tree.setColumnWidth(0, 300)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        self.groups: dict[str, QTreeWidgetItem] = {}

    def _group(self, name: str, caption: str, count: int) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [f"{caption} ({count})"])
        item.setFirstColumnSpanned(True)
        item.setExpanded(0 < count <= 50)
        self.groups[name] = item
        return item

    def show_diff(self, found: StoreDiff) -> None:
        self.tree.clear()
        self.groups = {}
        self.summary.setText("The branch and the original hold the same log and rows"
                             if found.same else "Left: the original now · right: the branch")
        for name, caption, ids in (("streams_changed", "Streams that differ",
                                    found.streams_changed),
                                   ("streams_only_a", "Streams only in the original",
                                    found.streams_only_a),
                                   ("streams_only_b", "Streams only in the branch",
                                    found.streams_only_b)):
            group = self._group(name, caption, len(ids))
            for aggregate_id in ids:
                before, after = found.versions.get(aggregate_id, (None, None))
                QTreeWidgetItem(group, [aggregate_id, "—" if before is None else f"v{before}",
                                        "—" if after is None else f"v{after}"])
        for name, caption, events, column in (
                ("events_only_a", "Events only in the original", found.events_only_a, 1),
                ("events_only_b", "Events only in the branch", found.events_only_b, 2)):
            group = self._group(name, caption, len(events))
            for event in events:
                item = QTreeWidgetItem(group, [f"{event['aggregate_id']} "
                                               f"v{event['version']}"])
                item.setText(column, f"{event['event_type']} {_value(event['data'])}")
        for projection, kinds in found.rows.items():
            self._add_rows(projection, kinds)

    def _add_rows(self, projection: str, kinds: dict[str, list[Any]]) -> None:
        total = sum(len(rows) for rows in kinds.values())
        group = self._group(f"rows:{projection}", f"Projection {projection}", total)
        for row in kinds["added"]:
            QTreeWidgetItem(group, ["added", "", _value(row)])
        for row in kinds["removed"]:
            QTreeWidgetItem(group, ["removed", _value(row), ""])
        for change in kinds["changed"]:
            item = QTreeWidgetItem(group, [f"changed: {change['key']}"])
            for column, values in change["columns"].items():
                child = QTreeWidgetItem(item, [column, _value(values["before"]),
                                               _value(values["after"])])
                child.setForeground(2, Qt.GlobalColor.darkBlue)
            item.setExpanded(True)
