"""The aggregate's state right after the selected event, changed fields highlighted.

As of a past position P (`show_as_of`), an event after P (or a stream selected with no
event) shows the aggregate's state as of P instead: its events up to P folded
(`incident_core.operations.asof.state_as_of`, on the view's query lane)."""

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
from incident_core.operations.asof import state_as_of
from incident_gui.models.state_diff import MISSING, changed_paths
from incident_gui.presentation.formatting import compact_json, plural
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane, Requests

__all__ = ["CHANGED_ROLE", "StateView", "past_state", "states_around"]

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


def past_state(app: Application, aggregate_id: str,
               position: int) -> tuple[int, dict[str, Any]] | None:
    """(version, state as JSON) of the aggregate after its events up to `position`."""
    state = state_as_of(app, aggregate_id, position)
    return None if state is None else (state.version, state.state.model_dump(mode="json"))


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
        self._stream: str | None = None  # the selected stream (shown alone in the past)
        self._as_of: int | None = None  # the past position shown (None: now)
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
        self._as_of = self._stream = None  # another store starts in the present
        self.show_event(None)

    @property
    def as_of(self) -> int | None:
        return self._as_of

    def show_as_of(self, position: int | None) -> None:
        """Show states as of `position` (None: now), again for what is selected."""
        self._as_of = position
        self.show_event(self._event)

    def show_stream(self, aggregate_id: str | None) -> None:
        """The stream selected: in the past with no event of it shown, its state then."""
        self._stream = aggregate_id
        if self._as_of is not None and (self._event is None
                                        or self._event.aggregate_id != aggregate_id):
            self.show_event(None)

    def show_event(self, event: RecordedEvent | None) -> None:
        self._requests.reset()
        self.tree.clear()
        self.error.hide()
        self._changed = set()
        self._event = event
        past, app = self._as_of, self._app
        if app is not None and past is not None and (event is None or event.position > past):
            self._show_past(app, past, event.aggregate_id if event else self._stream)
            return
        if event is None or app is None:
            self.title.setText("Select an event to see the state after it")
            return
        self.title.setText(f"State of <b>{escape(event.aggregate_id)}</b> after version "
                           f"{event.version} ({escape(event.event_type)}) — computing…")
        self._requests.submit(lambda: states_around(app, event), self._on_done,
                              self._on_failed)

    def _show_past(self, app: Application, position: int, aggregate_id: str | None) -> None:
        if aggregate_id is None:
            self.title.setText(f"As of position {position:,}: select a stream to see its "
                               "state then")
            return
        self.title.setText(f"State of <b>{escape(aggregate_id)}</b> as of position "
                           f"{position:,} — computing…")
        self._requests.submit(
            lambda: past_state(app, aggregate_id, position),
            lambda result: self._past_done(aggregate_id, position, result),
            lambda message, details: self._past_failed(aggregate_id, position, message,
                                                       details))

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

    def _past_done(self, aggregate_id: str, position: int, result: object) -> None:
        where = f"<b>{escape(aggregate_id)}</b>"
        if not isinstance(result, tuple):
            self.title.setText(f"{where} had no events by position {position:,}")
            return
        version, state = result
        self.title.setText(f"State of {where} as of position {position:,}: version "
                           f"{version} (its later events are not applied)")
        self._fill(self.tree.invisibleRootItem(), state, state, ())
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

    def _past_failed(self, aggregate_id: str, position: int, message: str,
                     details: str) -> None:
        self.error.setText(f"⚠ Cannot replay {aggregate_id} to position {position:,}: "
                           f"{message}")
        self.error.setToolTip(details)
        self.error.show()

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
