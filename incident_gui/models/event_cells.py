"""How an event's cells look in the timeline and the global log (shared by both models)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from incident_core import RecordedEvent
from incident_gui.presentation.colors import color_for_event_type, text_color_on
from incident_gui.presentation.formatting import local_time, summarize, utc_tooltip

__all__ = ["EVENT_ROLE", "KnowsEvent", "event_cell", "type_icon", "unknown_type_icon"]

EVENT_ROLE = Qt.ItemDataRole.UserRole + 1
KnowsEvent = Callable[[str], bool]
_ICON_SIZE = 12


@lru_cache(maxsize=512)
def type_icon(event_type: str) -> QIcon:
    """A round swatch of the event type's colour."""
    pixmap = QPixmap(_ICON_SIZE, _ICON_SIZE)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = color_for_event_type(event_type)
    painter.setPen(text_color_on(color))  # a ring: the dot stays visible on a selected row
    painter.setBrush(QBrush(color))
    painter.drawEllipse(1, 1, _ICON_SIZE - 2, _ICON_SIZE - 2)
    painter.end()
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)  # not tinted with the selection colour
    return icon


def unknown_type_icon() -> QIcon:
    return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)


def _type_cell(event: RecordedEvent, role: int, knows: KnowsEvent) -> Any:
    known = knows(event.event_type)
    if role == Qt.ItemDataRole.DisplayRole:
        return event.event_type if known else f"{event.event_type} (unknown)"
    if role == Qt.ItemDataRole.DecorationRole:
        return type_icon(event.event_type) if known else unknown_type_icon()
    if role == Qt.ItemDataRole.ToolTipRole and not known:
        return (f"{event.event_type} is not part of the loaded domain: "
                "its data is shown raw")
    return None


def event_cell(event: RecordedEvent, column: str, role: int, knows: KnowsEvent) -> Any:
    """The value of one cell of an event row for `role` (None when the role is unused)."""
    if role == EVENT_ROLE:
        return event
    if column == "type":
        return _type_cell(event, role, knows)
    if role == Qt.ItemDataRole.ToolTipRole:
        if column == "recorded":
            return utc_tooltip(event.recorded_at_text)
        if column == "summary":
            return summarize(event.data, limit=2000)
        return None
    if role == Qt.ItemDataRole.TextAlignmentRole and column in ("position", "version"):
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if role != Qt.ItemDataRole.DisplayRole:
        return None
    return _display(event, column)


def _display(event: RecordedEvent, column: str) -> str:
    if column == "position":
        return str(event.position)
    if column == "version":
        return str(event.version)
    if column == "aggregate":
        return event.aggregate_id
    if column == "recorded":
        return local_time(event.recorded_at_text)
    if column == "summary":
        return summarize(event.data)
    raise KeyError(column)
