"""What the window's helpers may use of the window, so that the menus, the layout, the
saga and lineage views, the table menus and the time-travel tab are given "the window's
services" instead of importing `MainWindow` (which imports them: a cycle).

`WindowServices` is the window as a helper sees it (a `QMainWindow`, so it can parent
dialogs and hold menus); `MainWindow` is the one implementation. `Panels` is the smaller
view the layout needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QTabWidget, QWidget

from incident_core import RecordedEvent
from incident_gui.session.settings import Settings
from incident_gui.session.store_session import Session
from incident_gui.tasks.query_lane import QueryLane
from incident_gui.widgets.activity_strip import ActivityStrip
from incident_gui.widgets.command_panel import CommandPanel
from incident_gui.widgets.event_detail import EventDetail
from incident_gui.widgets.global_log_panel import GlobalLogPanel
from incident_gui.widgets.projection_panel import ProjectionPanel
from incident_gui.widgets.state_view import StateView
from incident_gui.widgets.store_status import StoreStatusBar
from incident_gui.widgets.streams_panel import StreamsPanel
from incident_gui.widgets.timeline_panel import TimelinePanel
from incident_gui.window.live_updates import LiveUpdates
from incident_gui.window.projections_host import ProjectionsHost

__all__ = ["Panels", "RowMenuHooks", "StoreActions", "WindowServices"]


class RowMenuHooks(Protocol):
    """The table menus' extension point: add entries to a projection row's menu."""

    @property
    def projection_row_hooks(self) -> list[Callable[[QMenu, str, str], None]]: ...


class StoreActions(Protocol):
    @property
    def close_store(self) -> QAction: ...
    @property
    def recent_menu(self) -> QMenu: ...


class Panels(Protocol):
    """The window's panels (what the layout arranges)."""

    @property
    def streams_panel(self) -> StreamsPanel: ...
    @property
    def timeline_panel(self) -> TimelinePanel: ...
    @property
    def global_log_panel(self) -> GlobalLogPanel: ...
    @property
    def event_detail(self) -> EventDetail: ...
    @property
    def state_view(self) -> StateView: ...
    @property
    def command_panel(self) -> CommandPanel: ...
    @property
    def projection_panel(self) -> ProjectionPanel: ...
    @property
    def store_activity(self) -> ActivityStrip: ...
    @property
    def aggregate_activity(self) -> ActivityStrip: ...
    def setCentralWidget(self, widget: QWidget, /) -> None: ...


class WindowServices(QMainWindow):
    """The open store, the window's parts, its navigation and its commands: the window
    as its helpers see it. `MainWindow` builds the parts and implements the commands."""

    sig_log_ready = Signal()  # the first page of the global log arrived (after each open)
    sig_open_failed = Signal(str)
    sig_store_changed = Signal(object)  # StoreChanges: every view updates from this one signal

    session: Session | None
    settings: Settings
    lanes: dict[str, QueryLane]  # short reads off the UI thread, by group of views
    status: StoreStatusBar
    updates: LiveUpdates  # its `head`: the newest position the window knows (no read)
    side_tabs: QTabWidget
    projections: ProjectionsHost
    actions_: StoreActions
    table_menus: RowMenuHooks
    streams_panel: StreamsPanel
    timeline_panel: TimelinePanel
    global_log_panel: GlobalLogPanel
    event_detail: EventDetail
    state_view: StateView
    command_panel: CommandPanel
    projection_panel: ProjectionPanel
    store_activity: ActivityStrip
    aggregate_activity: ActivityStrip

    # navigation and commands (MainWindow implements them)
    def show_event(self, event: RecordedEvent) -> None:
        raise NotImplementedError

    def show_event_id(self, event_id: str) -> None:
        raise NotImplementedError

    def show_aggregate(self, aggregate_id: str, version: int | None = None) -> None:
        raise NotImplementedError

    def open_target(self, target: str, *, read_only: bool = False,
                    create: bool = False) -> bool:
        raise NotImplementedError

    def begin_open(self, target: str, *, read_only: bool = False,
                   create: bool = False) -> bool:
        raise NotImplementedError

    def close_store(self) -> None:
        raise NotImplementedError

    def close_store_and_wait(self) -> None:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def set_live(self, live: bool) -> None:
        raise NotImplementedError

    def focus_filter(self) -> None:
        raise NotImplementedError

    def fill_recent_menu(self) -> None:
        raise NotImplementedError

    def new_store_dialog(self) -> None:
        raise NotImplementedError

    def open_demo(self) -> None:
        raise NotImplementedError

    def open_dialog(self, *, read_only: bool) -> None:
        raise NotImplementedError

    def rebuild_projections(self) -> None:
        raise NotImplementedError

    def show_about(self) -> None:
        raise NotImplementedError
