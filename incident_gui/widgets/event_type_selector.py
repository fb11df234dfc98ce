"""A drop-down button to pick several event types (the global log's type filter)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from incident_gui.models.event_cells import type_icon

__all__ = ["EventTypeSelector"]


class EventTypeSelector(QToolButton):
    """Checkable event types in a menu; none checked means every type."""

    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventTypeFilter")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolTip("Show only events of the checked types")
        self._menu = QMenu(self)
        self.setMenu(self._menu)
        self._actions: dict[str, QAction] = {}
        self._update_text()

    def set_types(self, types: Iterable[str]) -> None:
        """Offer these types, keeping the checks of those still offered."""
        types = list(types)
        if types == list(self._actions):
            return
        keep = set(self.selected())
        self._menu.clear()
        self._actions = {}
        every = self._menu.addAction("Show every type")
        every.triggered.connect(self.clear)
        self._menu.addSeparator()
        for name in types:
            action = self._menu.addAction(type_icon(name), name)
            action.setCheckable(True)
            action.setChecked(name in keep)
            action.toggled.connect(self._on_toggled)
            self._actions[name] = action
        self._update_text()

    def offered(self) -> list[str]:
        return list(self._actions)

    def selected(self) -> tuple[str, ...]:
        return tuple(name for name, action in self._actions.items() if action.isChecked())

    def set_selected(self, names: Iterable[str]) -> None:
        wanted = set(names)
        for name, action in self._actions.items():
            action.blockSignals(True)
            action.setChecked(name in wanted)
            action.blockSignals(False)
        self._update_text()
        self.sig_changed.emit()

    def clear(self) -> None:
        self.set_selected(())

    def _on_toggled(self, _checked: bool) -> None:
        self._update_text()
        self.sig_changed.emit()

    def _update_text(self) -> None:
        chosen = self.selected()
        if not chosen:
            self.setText("All event types")
        elif len(chosen) == 1:
            self.setText(chosen[0])
        else:
            self.setText(f"{len(chosen)} event types")
