"""Moving around the window: a stream or an event chosen in one panel is shown in the
others (timeline, global log, detail, state, commands, charts). The navigation part of
`MainWindow`, kept apart so the window itself stays a composition."""

from __future__ import annotations

from incident_core import RecordedEvent
from incident_gui.session.store_session import demo_store_path
from incident_gui.window.services import WindowServices

__all__ = ["DEMO_FIRST_ACCOUNT", "WindowNavigation"]

DEMO_FIRST_ACCOUNT = "acc-00001"


class WindowNavigation(WindowServices):
    """Selections routed between the panels (the window's base; the one read here,
    `show_event_id`'s, runs on a lane)."""

    def _forget_view_state(self) -> None:
        """Another store: the previous one's filters mean nothing here (and would show
        "0 streams"), so the log and the streams list start unfiltered."""
        for widget in (self.global_log_panel.filters, self.streams_panel.filter_edit):
            widget.blockSignals(True)
        self.global_log_panel.filters.clear()
        self.streams_panel.filter_edit.clear()
        for widget in (self.global_log_panel.filters, self.streams_panel.filter_edit):
            widget.blockSignals(False)

    def _greet(self) -> None:
        """Open on something alive: the demo's first account (or the first stream) with
        its latest event selected, so the timeline, detail and state are filled at once
        (once the list shows its first page: it reads it on its lane as the store opens)."""
        session = self.session

        def greet() -> None:
            if self.session is not session:
                return  # another store was opened meanwhile
            preferred = DEMO_FIRST_ACCOUNT if self._is_demo() else None
            if preferred is None or not self.streams_panel.select_aggregate(preferred):
                self.streams_panel.select_row(0)
            self.timeline_panel.select_last()
        self.streams_panel.when_listed(greet)

    def _is_demo(self) -> bool:
        return self.session is not None and self.session.target == str(demo_store_path())

    # -- navigation ------------------------------------------------------------------------
    def _on_stream_selected(self, aggregate_id: str | None) -> None:
        shown = self.event_detail.shown_event
        if aggregate_id is not None and shown is not None and shown.aggregate_id != aggregate_id:
            self._on_event_selected(None)  # another aggregate's event: not this stream's
        self.timeline_panel.show_aggregate(aggregate_id)
        if aggregate_id is not None:
            streams = self.streams_panel.model
            row = streams.row_of(aggregate_id)
            info = None if row is None else streams.info_at(row)
            self.command_panel.set_aggregate_id(
                aggregate_id, None if info is None else info.aggregate_type)
        store = None if self.session is None else self.session.app.store
        self.aggregate_activity.set_scope(store, aggregate_id=aggregate_id, whole_store=False)

    def _on_event_selected(self, event: RecordedEvent | None) -> None:
        shown = self.event_detail.shown_event
        if event is not None and shown is not None and shown.event_id == event.event_id:
            return
        self.event_detail.show_event(event)
        self.state_view.show_event(event)

    def show_event_id(self, event_id: str) -> None:
        """Jump to an event: its aggregate's timeline, the global log, detail and state."""
        if self.session is None:
            return
        app = self.session.app
        self.lanes["detailLoader"].submit(
            lambda: app.store.get_event(event_id),
            lambda event: self._event_found(app, event_id, event),
            lambda message, _details: self.status.showMessage(message, 8000))

    def _event_found(self, app: object, event_id: str, event: RecordedEvent | None) -> None:
        if self.session is None or self.session.app is not app:
            return  # another store was opened meanwhile
        if event is None:
            self.status.showMessage(f"No event {event_id} in this store", 5000)
            return
        self.show_event(event)

    def show_event(self, event: RecordedEvent) -> None:
        self._on_event_selected(event)
        self.show_aggregate(event.aggregate_id, version=event.version)
        self.global_log_panel.select_position(event.position)
        self.side_tabs.setCurrentIndex(0)

    def show_aggregate(self, aggregate_id: str, version: int | None = None) -> None:
        if not self.streams_panel.select_aggregate(aggregate_id):
            self.streams_panel.clear_selection()  # not listed (filtered out, or far down)
            self._on_stream_selected(aggregate_id)
        self.timeline_panel.show_aggregate(aggregate_id, version=version)

    def focus_filter(self) -> None:
        """Ctrl+F: the global log's text filter if the log has focus, else the streams'."""
        if self.global_log_panel.has_focus_within():
            self.global_log_panel.focus_filter()
        else:
            self.streams_panel.focus_filter()

