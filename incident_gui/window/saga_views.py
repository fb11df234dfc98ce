"""The saga views of the inspector: the conversation graph window, the process-manager
tab and what-if branches, with their menu items — installed on the main window by one
call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from incident_core import RecordedEvent
from incident_gui.widgets.conversation_window import ConversationWindow
from incident_gui.widgets.process_managers_panel import ProcessManagersPanel
from incident_gui.window.branching import BranchController
from incident_gui.window.parked_badge import ParkedBadge, install_parked_badge

if TYPE_CHECKING:
    from incident_gui.window.services import WindowServices

__all__ = ["SagaViews", "install_saga_views"]


class SagaViews(QObject):
    """Owns the graph window (created on first use) and the "Sagas" tab."""

    def __init__(self, window: WindowServices) -> None:
        super().__init__(window)
        self.window = window
        self.graph: ConversationWindow | None = None
        self.panel = ProcessManagersPanel(window)
        self.tab_index = window.side_tabs.addTab(self.panel, "Sagas")
        self.show_action = self._action("Show &conversation", "Ctrl+Shift+G",
                                        "actionShowConversation")
        self.show_action.triggered.connect(self._show_selected)
        self.panel_action = self._action("&Process managers", None, "actionProcessManagers")
        self.panel_action.triggered.connect(self.show_panel)
        window.event_detail.sig_conversation_requested.connect(self.show_conversation)
        self.panel.sig_conversation_requested.connect(self.show_conversation)
        window.side_tabs.currentChanged.connect(self._on_tab)
        window.sig_log_ready.connect(self._on_store_changed)
        self.branches = BranchController(window)
        self.parked_badge: ParkedBadge | None = None  # set by install_saga_views

    def _action(self, text: str, shortcut: str | None, name: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        self.window.addAction(action)
        for menu in self.window.menuBar().findChildren(QMenu):
            if menu.title() == "&View":
                menu.addAction(action)
        return action

    def _show_selected(self) -> None:
        self.show_conversation()

    def show_conversation(self, ident: str | None = None) -> ConversationWindow | None:
        """The graph of `ident` (event or correlation id; default: the selected event)."""
        session = self.window.session
        if ident is None:
            shown = self.window.event_detail.shown_event
            ident = None if shown is None else shown.event_id
        if session is None or ident is None:
            self.window.status.showMessage("Select an event to see its conversation", 5000)
            return None
        if self.graph is None:
            self.graph = ConversationWindow(self.window, lane=self.window.lanes["sagaLoader"])
            self.graph.sig_event_clicked.connect(self._on_node_clicked)
        self.graph.show_for(session.app, ident)
        self.graph.show()
        self.graph.raise_()
        return self.graph

    def _on_node_clicked(self, event: RecordedEvent) -> None:
        if self.window.session is not None:
            self.window.show_event(event)

    def show_panel(self) -> None:
        self.window.side_tabs.setCurrentIndex(self.tab_index)

    def _on_tab(self, index: int) -> None:
        if index == self.tab_index:
            session = self.window.session
            self.panel.set_application(None if session is None else session.app)

    def _on_store_changed(self) -> None:
        if self.graph is not None:
            self.graph.clear()
        self._on_tab(self.window.side_tabs.currentIndex())


def install_saga_views(window: WindowServices) -> SagaViews:
    views = SagaViews(window)
    views.parked_badge = install_parked_badge(window, views.panel, views.show_panel)
    return views
