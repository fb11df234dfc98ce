"""Keeps the projection panel in step with the store without paying for it off screen.

Binding a store to the panel reads projection tables, and live changes would re-read them
again and again: the host binds the store when the panel is first shown, and refreshes it
after changes at most every REFRESH_MS, only while it is on screen.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from incident_core import Application
from incident_gui.session.store_session import Session
from incident_gui.tasks.child_worker import ChildHome, child_home
from incident_gui.widgets.projection_panel import ProjectionPanel

__all__ = ["REFRESH_MS", "ProjectionsHost"]

REFRESH_MS = 500


class ProjectionsHost(QObject):
    def __init__(self, panel: ProjectionPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self._pending: Application | None = None
        self._child: ChildHome | None = None
        self._stale = False
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._timer.timeout.connect(self.shown)

    def bind(self, session: Session | None) -> None:
        """Show the projections of `session`'s store (now if on screen, else when first
        shown); its rebuilds run in a child process where one can open it."""
        app = None if session is None else session.app
        self._stale = False
        self._child = child_home(session)
        if app is None or self.panel.isVisible():
            self._pending = None
            self.panel.set_application(app, self._child)
        else:
            self.panel.set_application(None)  # never left holding a closed store
            self._pending = app

    def changed(self) -> None:
        """The store changed: refresh soon (coalesced), if and when on screen."""
        self._stale = True
        if not self._timer.isActive():
            self._timer.start()

    def shown(self) -> None:
        """Call when the panel may have become visible (its tab was chosen)."""
        if not self.panel.isVisible():
            return
        if self._pending is not None:
            app, self._pending = self._pending, None
            self.panel.set_application(app, self._child)
        elif self._stale:
            self.panel.refresh()
        self._stale = False
