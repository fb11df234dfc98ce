"""Projections: browse each read model's rows lazily, see its lag, rebuild it from the log.

One tab per projection (``projectionTabs``, each a `ProjectionTab`) with a table
``projection_<name>`` over
`ProjectionRowsModel` (keyset pages of `EventStore.projection_rows`, fetched as the view
scrolls) and a label ``projectionInfo_<name>`` with the row count, checkpoint and lag.

Showing or refreshing a tab reads its first pages, row count, checkpoint and head in an
`OperationWorker` (never on the UI thread); the loaded rows, scroll position and selection
stay until the answer arrives, and a read overtaken by a newer refresh is dropped, so the
table never goes back to rows older than a change it was told about (a rebuild).

Rebuild (``rebuildButton``, Ctrl+R) replays the log into the current tab's projection
(`projection_rebuild.RebuildRunner`: in a child process when the store and domain can be
named to one, `set_application(app, child)`, with its progress, Cancel and status line).
The operation writes only when it finishes, so the table stays readable meanwhile, and a
cancelled or failed rebuild leaves the previous rows as they were. Read-only stores cannot
rebuild.

`show_as_of(app, position)` shows every tab as of a past position (`projection_past`: the
rows folded from the nearest row snapshot, read in the worker, sortable, never written);
rebuilds are refused and new events leave the tabs alone until `show_as_of(app, None)`.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from incident_core import Application
from incident_gui.presentation.progress_text import format_duration, progress_texts
from incident_gui.tasks.child_worker import ChildHome
from incident_gui.widgets.command_panel import host_binds_shortcut, panel_shortcut
from incident_gui.widgets.projection_rebuild import RebuildRunner
from incident_gui.widgets.projection_rows import (
    PAGE_SIZE,
    ProjectionRowsModel,
)
from incident_gui.widgets.projection_tab import ProjectionTab

__all__ = ["PAGE_SIZE", "ProjectionPanel", "ProjectionRowsModel", "format_duration",
           "progress_texts"]

REBUILD_SHORTCUT = "Ctrl+R"


class ProjectionPanel(QWidget):
    """The projections of the open application, with rebuild."""

    sig_context_menu = Signal(object, QPoint)  # the tab, the position in its view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("projectionPanel")
        self._app: Application | None = None
        self._read_only = False
        self._as_of: tuple[Application, int] | None = None  # the past shown, and whose
        self._child: ChildHome | None = None  # where a child process can rebuild
        self._rebuild = RebuildRunner(self)
        self._rebuild.sig_running.connect(lambda _running: self._update_controls())
        self._rebuild.sig_rebuilt.connect(self.refresh)
        self._build()
        self._update_controls()

    def _build(self) -> None:
        self._tabs = QTabWidget(self)
        self._tabs.setObjectName("projectionTabs")
        self._tabs.setDocumentMode(True)
        self._tabs.currentChanged.connect(self._on_tab_changed)
        self._empty = QLabel("No projections: open a store with a domain that defines some.",
                             self)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._build_buttons()
        running = QHBoxLayout()
        running.addWidget(self._rebuild.progress, 1)
        running.addWidget(self._rebuild.cancel_button)
        bar = QHBoxLayout()
        bar.addWidget(self._rebuild.status, 1)
        bar.addWidget(self._refresh_button)
        bar.addWidget(self._rebuild_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._tabs, 1)
        layout.addWidget(self._empty, 1)
        layout.addLayout(running)
        layout.addLayout(bar)

    def _build_buttons(self) -> None:
        """Reload and Rebuild (the rebuild's progress, Cancel and status are its runner's)."""
        self._refresh_button = QPushButton("Reload", self)
        self._refresh_button.setObjectName("refreshProjectionsButton")
        self._refresh_button.setToolTip("Read the rows, checkpoints and head again")
        self._refresh_button.clicked.connect(self.reload_all)
        self._rebuild_button = QPushButton("Rebuild", self)
        self._rebuild_button.setObjectName("rebuildButton")
        self._rebuild_button.clicked.connect(self.rebuild_current)
        self._shortcut = panel_shortcut(self, REBUILD_SHORTCUT, self.rebuild_current)

    def showEvent(self, event: QShowEvent) -> None:
        self._shortcut.setEnabled(not host_binds_shortcut(self, self._shortcut.key()))
        super().showEvent(event)

    # -- public API ---------------------------------------------------------------------
    def set_application(self, app: Application | None, child: ChildHome | None = None) -> None:
        """Show the projections of `app` (None: nothing open); `child`: where a child
        process can rebuild them (None: a thread of this one). A running rebuild of the
        previous application is cancelled."""
        self._rebuild.forget()
        self._app, self._child = app, child
        self._tabs.blockSignals(True)
        while self._tabs.count():
            page = self._tab(0)
            self._tabs.removeTab(0)
            page.setParent(None)
            page.deleteLater()
        if self._as_of is not None and self._as_of[0] is not app:
            self._as_of = None  # another store starts in the present
        if app is not None:
            for name in app.domain.projections:
                tab = ProjectionTab(app, name, self._tabs)
                tab.as_of = self.as_of
                tab.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
                tab.view.customContextMenuRequested.connect(
                    lambda pos, t=tab: self.sig_context_menu.emit(t, pos))
                self._tabs.addTab(tab, name)
        self._tabs.blockSignals(False)
        self._empty.setVisible(app is not None and self._tabs.count() == 0)
        self._tabs.setVisible(self._tabs.count() > 0)
        self.reload_all()

    @property
    def as_of(self) -> int | None:
        """The past position the tabs show (None: now)."""
        return None if self._as_of is None else self._as_of[1]

    def show_as_of(self, app: Application | None, position: int | None) -> None:
        """Show every tab as of `position` of `app`'s store (None: now)."""
        self._as_of = None if app is None or position is None else (app, position)
        for index in range(self._tabs.count()):
            tab = self._tab(index)
            if tab.as_of != self.as_of:
                tab.as_of = self.as_of
                tab.model.clear()
        self.reload_all()

    def set_read_only(self, read_only: bool) -> None:
        """Read-only stores show projections but cannot rebuild them."""
        self._read_only = read_only
        self._update_controls()

    def refresh(self) -> None:
        """The store changed: reload the current tab now and the others when they are shown
        (the past does not change: tabs showing it stay as they are)."""
        if self.as_of is None:
            self.reload_all()

    def reload_all(self) -> None:
        """Read every tab again (the current one now, the others when shown)."""
        for index in range(self._tabs.count()):
            self._tab(index).stale = True
        self._on_tab_changed(self._tabs.currentIndex())
        self._update_controls()

    def current_tab(self) -> ProjectionTab | None:
        index = self._tabs.currentIndex()
        return None if index < 0 else self._tab(index)

    def current_projection(self) -> str | None:
        index = self._tabs.currentIndex()
        return self._tab(index).name if index >= 0 else None

    def select_projection(self, name: str) -> None:
        for index in range(self._tabs.count()):
            if self._tab(index).name == name:
                self._tabs.setCurrentIndex(index)

    def is_rebuilding(self) -> bool:
        return self._rebuild.is_running()

    def rebuilds_in_child(self) -> bool:
        """Whether a rebuild runs in a child process (else on a thread of this one)."""
        return self._child is not None

    def is_loading(self) -> bool:
        """Whether a tab is still reading its rows (its answer not yet shown)."""
        return any(self._tab(index).is_reading() for index in range(self._tabs.count()))

    # -- tabs ---------------------------------------------------------------------------
    def _tab(self, index: int) -> ProjectionTab:
        page = self._tabs.widget(index)
        assert isinstance(page, ProjectionTab)
        return page

    def _on_tab_changed(self, index: int) -> None:
        if index >= 0 and self._tab(index).stale:
            self._tab(index).reload()
        self._update_controls()

    def _update_controls(self) -> None:
        running = self._rebuild.is_running()
        can = (self._app is not None and self._tabs.count() > 0 and not self._read_only
               and self.as_of is None)
        self._rebuild_button.setEnabled(can and not running)
        self._rebuild_button.setToolTip(
            "The store is open read-only: projections cannot be rebuilt" if self._read_only
            else "Showing the past: press Now (toolbar) to rebuild" if self.as_of is not None
            else f"Replay the log into the shown projection ({REBUILD_SHORTCUT})")
        self._refresh_button.setEnabled(self._app is not None)

    # -- rebuild ------------------------------------------------------------------------
    def rebuild_current(self) -> None:
        """Rebuild the projection of the current tab (in a child process where it can)."""
        name = self.current_projection()
        if name is not None:
            self._start_rebuild([name], name)

    def rebuild_all(self) -> None:
        """Rebuild every projection in one pass over the log, with one progress."""
        names = list(self._app.domain.projections) if self._app is not None else []
        if names:
            self._start_rebuild(names, "all projections" if len(names) > 1 else names[0])

    def _start_rebuild(self, names: list[str], name: str) -> None:
        app = self._app
        if app is None or self._read_only or self._rebuild.is_running():
            return
        if self.as_of is not None:
            self._rebuild.set_status("Showing the past: press Now to rebuild.", error=True)
            return
        self._rebuild.start(app, names, name, self._child)

    def cancel_rebuild(self) -> None:
        self._rebuild.cancel()
