"""Keyboard shortcuts that belong to a panel (active while the focus is inside it)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

__all__ = ["host_binds_shortcut", "panel_shortcut"]


def host_binds_shortcut(widget: QWidget, sequence: QKeySequence) -> bool:
    """Whether the window hosting `widget` has an action of its own on `sequence`."""
    window = widget.window()
    if window is widget:
        return False
    actions = set(window.findChildren(QAction)) | set(window.actions())
    return any(sequence in action.shortcuts() for action in actions
               if not _inside(widget, action.parent()))


def _inside(widget: QWidget, owner: object) -> bool:
    return isinstance(owner, QWidget) and (owner is widget or widget.isAncestorOf(owner))


def panel_shortcut(panel: QWidget, sequence: str, slot: Callable[[], None]) -> QShortcut:
    """A key for `slot` while the focus is inside `panel`. Panels call
    `host_binds_shortcut` when shown and disable theirs if the window has an action on the
    same key (two bindings would make it ambiguous, and neither would fire)."""
    shortcut = QShortcut(QKeySequence(sequence), panel)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    shortcut.activated.connect(slot)
    return shortcut
