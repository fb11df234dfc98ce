"""The inspector's main window: composes the panels and routes selections between them.

The window owns the open `Session`, the store opener, the live updates and the query
lanes; each panel is a thin widget over core queries and knows nothing about the others.
No store I/O runs here: opening runs on a worker (`StoreOpener`), closing too
(`StoreCloser`), reads on lanes, and changes arrive through `LiveUpdates`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize
from PySide6.QtGui import QCloseEvent, QShowEvent

from incident_core import RecordedEvent
from incident_gui.models.event_cells import type_icon
from incident_gui.presentation.colors import use_domain_colors
from incident_gui.session.settings import Settings
from incident_gui.session.store_session import Session, demo_store_path, recent_entry
from incident_gui.session.store_updates import StoreChanges
from incident_gui.tasks.demo_seeder import DemoSeeder
from incident_gui.tasks.query_lane import QueryLane
from incident_gui.tasks.workers import cancel_all_workers
from incident_gui.widgets.activity_strip import ActivityStrip
from incident_gui.widgets.command_panel import CommandPanel
from incident_gui.widgets.dialogs import show_error
from incident_gui.widgets.event_detail import EventDetail
from incident_gui.widgets.global_log_panel import GlobalLogPanel
from incident_gui.widgets.projection_panel import ProjectionPanel
from incident_gui.widgets.state_view import StateView
from incident_gui.widgets.store_status import StoreStatusBar
from incident_gui.widgets.streams_panel import StreamsPanel
from incident_gui.widgets.timeline_panel import TimelinePanel
from incident_gui.window.change_fanout import connect_store_changes
from incident_gui.window.layout import (
    build_layout,
    fit_to_screen,
    restore_geometry,
    restore_splitters,
    save_layout,
)
from incident_gui.window.lineage_views import install_lineage_views
from incident_gui.window.live_updates import LiveUpdates
from incident_gui.window.menus import WindowActions, build_actions
from incident_gui.window.projections_host import ProjectionsHost
from incident_gui.window.read_stopping import lend_interrupt, stop_reads
from incident_gui.window.saga_views import install_saga_views
from incident_gui.window.store_closer import StoreCloser
from incident_gui.window.store_commands import StoreCommands
from incident_gui.window.store_dialogs import for_the_window
from incident_gui.window.store_notices import show_notices
from incident_gui.window.store_opener import OpenedStore, OpenRequest, StoreOpener
from incident_gui.window.store_summary import StoreSummary
from incident_gui.window.table_menus import install_table_menus
from incident_gui.window.time_travel import TimeTravel

__all__ = ["ErrorReporter", "MainWindow"]

ErrorReporter = Callable[[str, str, str], None]  # title, message, details


class MainWindow(StoreCommands):
    """Streams | timeline over global log | event, state, commands, projections."""

    def __init__(self, *, domain: str | None = None, report: ErrorReporter | None = None,
                 settings: Settings | None = None, target: str | None = None,
                 read_only: bool = False) -> None:
        """`target`: a store to open; its open starts before the panels are built, so its
        reads (a cold file: from the disk) overlap the building of the window."""
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Incident inspector")
        self.setAcceptDrops(True)
        self._domain_spec = domain
        self._report = report or self._dialog_report
        self.settings = settings or Settings()
        self.session: Session | None = None
        self._seeder: DemoSeeder | None = None
        self._shut_down = False
        self.status = StoreStatusBar(self)
        self.setStatusBar(self.status)
        self.opener = StoreOpener(self.status, self)
        if target is not None:  # its outcome arrives through the event loop, wired by then
            self.begin_open(target, read_only=read_only)
        self.lanes = {name: QueryLane(name, self) for name in
                      ("logLoader", "timelineLoader", "detailLoader", "stateLoader",
                                     "chartLoader", "storeChartLoader", "sagaLoader")}
        self._build_panels()
        self.side_tabs = build_layout(self)
        self.actions_: WindowActions = build_actions(self)
        self.closer = StoreCloser(self.status, self)
        self.updates = LiveUpdates(self)
        self.summary = StoreSummary(self, lambda: self.live)
        self.sagas = install_saga_views(self)
        self._wire()
        self.time_travel = TimeTravel(self)
        restore_geometry(self, self.settings)
        self._splitters_restored = False
        self._install(None)

    # -- construction -----------------------------------------------------------------------
    def _build_panels(self) -> None:
        lanes = self.lanes
        self.streams_panel = StreamsPanel(self)
        self.timeline_panel = TimelinePanel(lanes["timelineLoader"], self)
        self.global_log_panel = GlobalLogPanel(lanes["logLoader"], self)
        self.event_detail = EventDetail(lanes["detailLoader"], self)
        self.state_view = StateView(lanes["stateLoader"], self)
        self.command_panel = CommandPanel(self, lane=lanes["detailLoader"])
        self.projection_panel = ProjectionPanel(self)
        self.projections = ProjectionsHost(self.projection_panel)
        # The whole store's chart and totals scan the events (seconds at 10M): a lane of
        # their own, so a stream's chart or a refresh never waits behind them.
        self.store_activity = ActivityStrip("storeActivity", lanes["storeChartLoader"], self)
        self.aggregate_activity = ActivityStrip("aggregateActivity", lanes["chartLoader"],
                                                self)

    def _wire(self) -> None:
        self.streams_panel.sig_stream_selected.connect(self._on_stream_selected)
        self.timeline_panel.sig_event_selected.connect(self._on_event_selected)
        self.global_log_panel.sig_event_selected.connect(self._on_event_selected)
        self.global_log_panel.sig_first_page.connect(self.sig_log_ready)
        self.event_detail.sig_event_requested.connect(self.show_event_id)
        self.event_detail.sig_aggregate_requested.connect(self.show_aggregate)
        self.command_panel.sig_event_requested.connect(self.show_event_id)
        self.side_tabs.currentChanged.connect(self.projections.shown)
        for strip in (self.store_activity, self.aggregate_activity):  # a bar → its time range
            strip.sig_range_clicked.connect(self.global_log_panel.filters.set_time_range)
        self.opener.sig_opened.connect(self._on_opened)
        self.opener.sig_failed.connect(self._open_failed)
        self.updates.changed.connect(self._on_changes)
        self.updates.failed.connect(lambda problem: self.status.show_live(self.live, problem))
        self.table_menus = install_table_menus(self)  # right-click menus, exports
        self.lineage = install_lineage_views(self)  # row History…, "Rows it changed"
        connect_store_changes(self)

    def sizeHint(self) -> QSize:
        return QSize(1440, 900)

    # -- opening and closing stores ------------------------------------------------------------
    def begin_open(self, target: str, *, read_only: bool = False, create: bool = False) -> bool:
        """Start opening a store (path, URL or memory:) on a worker; the current one stays
        until it is open. On failure it is reported and the current store kept."""
        return self.opener.begin(OpenRequest(target, self._domain_spec, read_only, create))

    def open_target(self, target: str, *, read_only: bool = False, create: bool = False) -> bool:
        """Open a store and wait for the outcome (the UI keeps running); True if opened."""
        return self.begin_open(target, read_only=read_only, create=create) and \
            self.opener.wait()

    @property
    def opening(self) -> bool:
        return self.opener.busy

    def _on_opened(self, opened: OpenedStore) -> None:
        if self._shut_down:  # an open that ended as the window closed: nobody shows it
            self.closer.close(opened.session)
            self.closer.finish()
            return
        target = opened.request.target
        self._install(opened.session, opened.head, opened.log_page)
        self._notice = show_notices(self, self.status, opened.session,
                                    lambda: self.begin_open(target, read_only=False))
        entry = recent_entry(target)
        if entry is not None:
            self.settings.add_recent(entry)

    def _open_failed(self, target: str, message: str, details: str) -> None:
        message = for_the_window(message)
        self.sig_open_failed.emit(message)
        self._report(f"Cannot open {target}", message, details)

    def open_demo(self) -> None:
        """Open the demo bank store, creating and seeding it first if needed."""
        path = demo_store_path()
        if path.exists():
            self.begin_open(str(path))
            return
        if self._seeder is not None and self._seeder.is_running():
            return
        self.status.showMessage("Creating the demo store…")
        self._seeder = DemoSeeder(path, self)
        self._seeder.sig_ready.connect(self.begin_open)
        self._seeder.sig_failed.connect(self._on_demo_failed)
        self._seeder.start()

    def _on_demo_failed(self, message: str, details: str) -> None:
        self.sig_open_failed.emit(message)
        self._report("Demo store", message, details)

    def close_store(self) -> None:
        """Show no store; the one open is closed on a worker."""
        self._install(None)

    def close_store_and_wait(self) -> None:
        """Close the store, and run the UI until it is (its file is free then)."""
        self._install(None)
        self.closer.wait()

    def _install(self, session: Session | None, head: int = 0,
                 log_page: list[RecordedEvent] | None = None) -> None:
        self.updates.stop()
        previous, self.session = self.session, session
        if session is not None and (previous is None or previous.target != session.target):
            self._forget_view_state()
        if session is not None:
            use_domain_colors(session.app.domain.event_types)
            type_icon.cache_clear()
        self._show_store(session, head, log_page)
        if previous is not None:  # on a worker: whoever moves its file waits for it
            self.closer.close(previous)
        if not self.opener.busy:  # (else it says "Opening …")
            self.status.clearMessage()
        self.summary.show()
        if session is not None:
            self.updates.set_paused(not self.live)
            self.updates.start(session.app, head)
            self.summary.read_totals()
            self.summary.show()
            self._greet()

    def _show_store(self, session: Session | None, head: int,
                    log_page: list[RecordedEvent] | None) -> None:
        """Give every panel the store (`head`, `log_page`: read with the open, off this
        thread); the log first, so its page is on screen before the others read."""
        app = None if session is None else session.app
        store = None if app is None else app.store
        knows = (lambda _t: True) if app is None else app.domain.knows_event
        self.global_log_panel.set_store(store, knows, head, log_page)
        self.global_log_panel.view.scrollToTop()
        self.streams_panel.set_store(store)
        self.timeline_panel.set_store(store, knows)
        self.event_detail.set_store(store, knows, (lambda _p: []) if app is None
                                    else app.rows_changed_by)
        self.state_view.set_application(app)
        self.store_activity.set_scope(store)
        self.aggregate_activity.set_scope(store, whole_store=False)
        self.command_panel.set_application(app)
        read_only = session is not None and session.read_only
        self.command_panel.set_read_only(read_only)
        self.projection_panel.set_read_only(read_only)
        self.projections.bind(session)
        lend_interrupt(self, store)
        self.actions_.rebuild.setEnabled(session is not None and not read_only)
        self.actions_.close_store.setEnabled(session is not None)
        self.time_travel.set_session(session, head)

    # -- live updates ----------------------------------------------------------------------------
    def set_live(self, live: bool) -> None:
        self.updates.set_paused(not live)
        self.status.show_live(live)

    @property
    def live(self) -> bool:
        return self.actions_.live.isChecked()

    def _on_changes(self, changes: StoreChanges) -> None:
        self.sig_store_changed.emit(changes)  # streams, timeline, log, charts, projections
        self.time_travel.set_head(changes.head)
        self.summary.show()

    def refresh(self) -> None:
        """F5: re-read everything from the store (keeps filters and selection); the head
        is read on a lane, then the views read again up to it."""
        if self.session is None:
            return
        app = self.session.app
        self.lanes["chartLoader"].submit(app.store.head, lambda head: self._refreshed(app, head),
                                         self.summary.failed)

    def _refreshed(self, app: object, head: int) -> None:
        if self.session is None or self.session.app is not app:
            return
        self.updates.restart_from(self.session.app, head)
        self.streams_panel.refresh()
        self.timeline_panel.refresh()
        self.global_log_panel.refresh(head)
        self.projections.changed()
        self.store_activity.reload()
        self.aggregate_activity.reload()
        self.summary.read_totals()
        self.summary.show()

    def rebuild_projections(self) -> None:
        if self.session is None or self.session.read_only:
            return
        self.side_tabs.setCurrentWidget(self.projection_panel)
        self.projections.shown()
        self.projection_panel.rebuild_all()  # the menu's: every projection, one progress

    # -- dialogs --------------------------------------------------------------------------------
    def _dialog_report(self, title: str, message: str, details: str) -> None:
        show_error(self, title, message, details)

    # -- shutdown ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every thread and close the store (idempotent)."""
        if self._shut_down:
            return
        self._shut_down = True
        if self._seeder is not None:
            self._seeder.abort()
        self.opener.cancel()
        self.updates.stop()
        self.closer.finish()  # closes under way end first: cancel_all_workers spares nothing
        stop_reads(self, None if self.session is None else self.session.app.store)
        cancel_all_workers()
        for lane in self.lanes.values():
            lane.stop()
        self.streams_panel.stop()
        if self.session is not None:  # closed on a worker; the closing window waits for it
            self.closer.close(self.session)
            self.session = None
            self.closer.finish()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._splitters_restored:
            self._splitters_restored = True
            fit_to_screen(self)  # again: now the frame's size is known
            restore_splitters(self, self.settings)
        self.projections.shown()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._splitters_restored:  # it was shown: its layout is worth keeping
            save_layout(self, self.settings)
        self.shutdown()
        super().closeEvent(event)

