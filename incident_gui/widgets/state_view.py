"""The aggregate's state right after the selected event, changed fields highlighted."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from incident_core import Application, RecordedEvent
from incident_gui.models.state_diff import MISSING, changed_paths
from incident_gui.presentation.formatting import compact_json, plural
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane, Requests

__all__ = ["CHANGED_ROLE", "StateView", "states_around"]

CHANGED_ROLE = Qt.ItemDataRole.UserRole + 4
# Amber at low alpha: a pale yellow on light palettes, a dim olive on dark ones; the
# palette's own text colour stays readable on both.
_HIGHLIGHT = QColor(255, 190, 0, 80)
StatePair = tuple[dict[str, Any], dict[str, Any]]


def states_around(app: Application, event: RecordedEvent) -> StatePair:
    """The aggregate's state (as JSON) just before and right after `event`."""
    after = app.state(event.aggregate_id, at_version=event.version)
    if after is None:
        return {}, {}
    if event.version > 1:
        previous = app.state(event.aggregate_id, at_version=event.version - 1)
        before = {} if previous is None else previous.state.model_dump(mode="json")
    else:
        aggregate = app.domain.aggregate_named(after.aggregate_type)
        before = {} if aggregate is None else aggregate.initial_state.model_dump(mode="json")
    return before, after.state.model_dump(mode="json")


def _text(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    return value if isinstance(value, str) else compact_json(value)


class StateView(QWidget):
    """A title, the state tree (Field / Value / Before) and an error line when replay fails."""

    def __init__(self, lane: QueryLane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stateView")
        self._requests = Requests(lane)
        self._app: Application | None = None
        self._changed: set[tuple[str, ...]] = set()
        self._event: RecordedEvent | None = None
        self.title = named(QLabel("Select an event to see the state after it"), "stateTitle")
        self.title.setWordWrap(True)
        self.tree = named(QTreeWidget(), "stateTree")
        self.tree.setHeaderLabels(["Field", "Value", "Before this event"])
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.error = named(QLabel(), "stateError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)  # messages quote store text
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.error)

    def set_application(self, app: Application | None) -> None:
        self._app = app
        self.show_event(None)

    def show_event(self, event: RecordedEvent | None) -> None:
        self._requests.reset()
        self.tree.clear()
        self.error.hide()
        self._changed = set()
        self._event = event
        if event is None or self._app is None:
            self.title.setText("Select an event to see the state after it")
            return
        self.title.setText(f"State of <b>{escape(event.aggregate_id)}</b> after version "
                           f"{event.version} ({escape(event.event_type)}) — computing…")
        app = self._app
        self._requests.submit(lambda: states_around(app, event), self._on_done,
                              self._on_failed)

    def changed_fields(self) -> set[tuple[str, ...]]:
        """Paths of the fields the shown event changed."""
        return set(self._changed)

    # -- results ----------------------------------------------------------------------------
    def _on_done(self, result: object) -> None:
        event = self._event
        if event is None:
            return
        if not isinstance(result, tuple):
            return
        before, after = result
        self._changed = changed_paths(before, after)
        self.title.setText(
            f"State of <b>{escape(event.aggregate_id)}</b> after version {event.version} "
            f"({escape(event.event_type)}) · <span style='background:rgba(255,190,0,80)'>"
            f"&nbsp;highlighted&nbsp;</span> fields changed in this event")
        self._fill(self.tree.invisibleRootItem(), before, after, ())
        self.tree.expandAll()

    def _fill(self, parent: QTreeWidgetItem, before: Any, after: dict[str, Any],
              path: tuple[str, ...]) -> None:
        for key, value in after.items():
            here = (*path, str(key))
            old = before.get(key, MISSING) if isinstance(before, dict) else MISSING
            item = QTreeWidgetItem(parent)
            item.setText(0, str(key))
            changed = here in self._changed or (path in self._changed and old is MISSING)
            if isinstance(value, dict) and value:
                item.setText(1, "{" + plural(len(value), "field") + "}")
                self._fill(item, old, value, here)
            else:
                item.setText(1, _text(value))
                item.setToolTip(1, _text(value))
            if changed:
                self._mark(item, old)

    def _mark(self, item: QTreeWidgetItem, old: Any) -> None:
        item.setData(0, CHANGED_ROLE, True)
        font = QFont(item.font(0))
        font.setBold(True)
        for column in range(3):
            item.setBackground(column, QBrush(_HIGHLIGHT))
            item.setFont(column, font)
        if not isinstance(old, dict):
            item.setText(2, _text(old))

    def _on_failed(self, message: str, details: str) -> None:
        event = self._event
        if event is None:
            return
        self.title.setText(f"State of <b>{escape(event.aggregate_id)}</b> after version "
                           f"{event.version}")
        self.error.setText(f"⚠ Cannot replay this aggregate to version {event.version}: "
                           f"{message}")
        self.error.setToolTip(details)
        self.error.show()
