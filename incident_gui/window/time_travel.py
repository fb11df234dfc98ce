"""Time travel in the inspector: the position/time control (a toolbar of the window), the
banner while the window shows the past, and the *Time travel* tab (the system as of the
chosen moment, a diff between two positions, shadow rebuilds, the event catalogue).

`TimeTravel(window)` installs all of it; the window calls `set_session` when a store is
opened or closed and `set_head` when the log grows.

Choosing a moment tells the window's own panels (`_show_panels`): the projection tabs, the
streams list and the state view show the system as of that position (each reads it off the
UI thread), the command panel is disabled (commands are recorded at the head, never in the
past) and the banner says so; *Now* returns all of them to the present. The *As of* tab
(every projection and stream side by side) reads only while it is on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTabWidget, QToolBar

from incident_core.engine.application import Application
from incident_gui.tasks.query_lane import Requests
from incident_gui.widgets.catalog_view import CatalogView
from incident_gui.widgets.past_view import PastView, PastViewData
from incident_gui.widgets.rebuild_diff import PositionDiff, ShadowPanel
from incident_gui.widgets.time_control import PastBanner, TimeControl

if TYPE_CHECKING:
    from incident_gui.session.store_session import Session
    from incident_gui.window.services import WindowServices

__all__ = ["PAST_COMMANDS_TIP", "TimeTravel"]

PAST_COMMANDS_TIP = ("The window shows the past (position {position:,}): commands are "
                     "recorded at the head, so they are disabled. Press Now to use them.")


def _no_time(_message: str, _details: str) -> None:
    """The banner's time is optional: without it, it shows the position alone."""


class TimeTravel(QObject):
    def __init__(self, window: WindowServices) -> None:
        super().__init__(window)
        self.window = window
        self._head = 0
        self._when = Requests(window.lanes["logLoader"])  # the banner's time (optional)
        self.past = PastView()
        self.diff = PositionDiff()
        self.shadow = ShadowPanel()
        self.catalog = CatalogView()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("timeTravelTabs")
        self.tabs.addTab(self.past, "As of")
        self.tabs.addTab(self.diff, "Diff two positions")
        self.tabs.addTab(self.shadow, "Shadow rebuild")
        self.tabs.addTab(self.catalog, "Event catalogue")
        window.side_tabs.addTab(self.tabs, "Time travel")
        self.control = TimeControl()
        toolbar = QToolBar("Time travel", window)
        toolbar.setObjectName("timeToolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.control)
        window.addToolBar(toolbar)
        self.banner = PastBanner()
        window.status.insertPermanentWidget(0, self.banner, 1)
        self.control.sig_moment.connect(self.show_moment)
        self.control.sig_error.connect(lambda message: window.status.showMessage(message, 8000))
        self.past.sig_loaded.connect(self._past_loaded)
        self.shadow.sig_swapped.connect(lambda _name: window.refresh())
        self.tabs.currentChanged.connect(self._tab_shown)
        window.side_tabs.currentChanged.connect(lambda _index: self._past_view_shown())
        window.streams_panel.sig_stream_selected.connect(window.state_view.show_stream)
        self._add_menu_action(window)

    def _add_menu_action(self, window: WindowServices) -> None:
        action = QAction("&Time travel", window)
        action.setObjectName("actionTimeTravel")
        action.setShortcut("Ctrl+T")
        action.triggered.connect(self.show_tab)
        window.addAction(action)
        for entry in window.menuBar().actions():
            menu = entry.menu()
            if entry.text() == "&Store" and isinstance(menu, QMenu):
                menu.addAction(action)

    def show_tab(self) -> None:
        self.window.side_tabs.setCurrentWidget(self.tabs)

    def set_session(self, session: Session | None, head: int = 0) -> None:
        """Another store (None: closed); `head` was read when it opened, off this thread."""
        app = None if session is None else session.app
        read_only = session is None or session.read_only
        self._head = head
        self.control.set_application(app, head)
        self.past.set_application(app)
        self.diff.set_application(app, head)
        self.shadow.set_application(app, read_only)
        self.catalog.set_application(app)
        self.banner.show_moment(None, self._head)
        self._commands_in_past(None)
        if self.window.projection_panel.as_of is not None:
            self.window.projection_panel.show_as_of(app, None)

    def set_head(self, head: int) -> None:
        self._head = head
        self.control.set_head(head)
        self.diff.set_head(head)

    @property
    def position(self) -> int | None:
        """The moment the window shows (None: now)."""
        return self.control.position

    def show_moment(self, position: object) -> None:
        """Show the window as of `position` (None: now)."""
        assert position is None or isinstance(position, int)
        self.banner.show_moment(position, self._head)
        self._show_panels(position)
        if position is None or self._past_on_screen():
            self.past.show_position(position)
        else:
            self.past.set_application(self.past_app)  # read when its tab is shown
        if position is not None:
            self._read_when(position)

    @property
    def past_app(self) -> Application | None:
        session = self.window.session
        return None if session is None else session.app

    def _show_panels(self, position: int | None) -> None:
        """The window's own panels as of `position`: each reads off the UI thread."""
        window = self.window
        window.projection_panel.show_as_of(self.past_app, position)
        window.streams_panel.show_as_of(position)
        window.state_view.show_as_of(position)
        self._commands_in_past(position)

    def _commands_in_past(self, position: int | None) -> None:
        panel = self.window.command_panel
        panel.setEnabled(position is None)
        panel.setToolTip("" if position is None else PAST_COMMANDS_TIP.format(position=position))

    def _read_when(self, position: int) -> None:
        session = self.window.session
        if session is None or position == 0:
            return
        store = session.app.store
        self._when.reset()
        self._when.submit(lambda: store.read_events(after_position=position - 1, limit=1),
                          lambda found: self._when_read(position, found), _no_time)

    def _when_read(self, position: int, found: object) -> None:
        if self.control.position == position and isinstance(found, list) and found:
            self.banner.show_moment(position, self._head, found[0].recorded_at_text)

    def _past_on_screen(self) -> bool:
        return (self.window.side_tabs.currentWidget() is self.tabs
                and self.tabs.currentWidget() is self.past)

    def _past_view_shown(self) -> None:
        position, data = self.control.position, self.past.data
        if (position is not None and self._past_on_screen()
                and (data is None or data.position != position)):
            self.past.show_position(position)

    def _past_loaded(self, data: object) -> None:
        assert isinstance(data, PastViewData)
        if self.control.position == data.position:
            self.banner.show_moment(data.position, self._head, data.when)

    def _tab_shown(self, index: int) -> None:
        if self.tabs.widget(index) is self.catalog and self.catalog.catalog is None:
            self.catalog.reload()
        self._past_view_shown()
