"""The parked-saga badge: a status-bar button with the number of parked saga steps (hidden
at 0), updated after every commit and live change, when the Sagas tab reads its managers
(a retry or a skip) and when a store is opened or closed. Clicking it opens the Sagas tab
with the first parked step selected."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QToolButton, QTreeWidgetItem, QTreeWidgetItemIterator

from incident_gui.presentation.formatting import plural
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import Requests
from incident_gui.widgets.process_managers_panel import PARKED_ROLE, ProcessManagersPanel

if TYPE_CHECKING:
    from incident_gui.window.services import WindowServices

__all__ = ["ParkedBadge", "install_parked_badge"]

_STYLE = ("QToolButton { background: #b91c1c; color: white; border: none; "
          "border-radius: 4px; padding: 1px 6px; font-weight: bold; }")


class ParkedBadge(QObject):
    """Owns the badge button in the window's status bar."""

    def __init__(self, window: WindowServices, panel: ProcessManagersPanel,
                 show_panel: Callable[[], None]) -> None:
        super().__init__(window)
        self.window = window
        self._panel = panel
        self._show_panel = show_panel
        self._requests = Requests(window.lanes["sagaLoader"])
        self.count = 0
        self.button = named(QToolButton(window.status), "parkedBadge")
        self.button.setStyleSheet(_STYLE)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.open_parked_list)
        window.status.addPermanentWidget(self.button)
        self.button.hide()
        self._select_pending = False
        window.sig_store_changed.connect(self.refresh)
        # a saga step parks after its cause's commit and records no event, so
        # `Application.subscribe` does not tell of it: count again once our command is done
        window.command_panel.sig_dispatched.connect(self.refresh)
        window.sig_log_ready.connect(self.refresh)
        panel.sig_refreshed.connect(self._on_panel_refreshed)
        window.actions_.close_store.triggered.connect(
            self.refresh, Qt.ConnectionType.QueuedConnection)

    def refresh(self, *_args: object) -> None:
        """Count the parked steps (one small indexed read, on the saga lane)."""
        self._requests.reset()  # an older count is stale
        session = self.window.session
        if session is None:
            self.show_count(0)
            return
        app = session.app
        self._requests.submit(lambda: len(app.parked_steps()), self.show_count,
                              lambda message, _details: self.show_count(0, message))

    def show_count(self, count: int, problem: str = "") -> None:
        self.count = count
        self.button.setText(f"⚠ {plural(count, 'parked saga step')}")
        self.button.setToolTip(problem or "Saga steps whose handler raised: click to "
                                          "inspect, retry or skip them")
        self.button.setVisible(count > 0)

    def open_parked_list(self) -> None:
        """The Sagas tab, with the first parked step selected once the tab has read."""
        self._select_pending = True
        self._show_panel()
        QTimer.singleShot(0, self._select_first)  # if the tab had read already

    def _on_panel_refreshed(self) -> None:
        self.refresh()
        self._select_first()

    def _select_first(self) -> None:
        if not self._select_pending:
            return
        tree = self._panel.tree
        found = QTreeWidgetItemIterator(tree)
        while (item := found.value()) is not None:
            if item.data(0, PARKED_ROLE) is not None:
                self._select(item)
                return
            found += 1

    def _select(self, item: QTreeWidgetItem) -> None:
        self._select_pending = False
        tree = self._panel.tree
        tree.setCurrentItem(item)
        tree.scrollToItem(item)
        tree.setFocus()


def install_parked_badge(window: WindowServices, panel: ProcessManagersPanel,
                         show_panel: Callable[[], None]) -> ParkedBadge:
    return ParkedBadge(window, panel, show_panel)
