"""What the window says about the open store: its title, the status bar's store, counts
and live state, and the totals that scan the events (the exact event count and the list of
event types: a moment at 10M events, so read on the whole-store chart's lane and shown when
they arrive; until then the status counts from the head)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from incident_gui.window.services import WindowServices

__all__ = ["StoreSummary"]


class StoreSummary:
    def __init__(self, window: WindowServices, live: Callable[[], bool]) -> None:
        self._window = window
        self._live = live

    def read_totals(self) -> None:
        """Ask the chart lane for the event types and the exact count of the open store."""
        window = self._window
        store = window.session.app.store if window.session else None
        if store is None:
            return
        lane = window.lanes["storeChartLoader"]
        lane.submit(store.event_types, window.global_log_panel.filters.add_event_types,
                    self.failed)
        lane.submit(store.event_count, self._on_count, self.failed)

    def _on_count(self, count: int) -> None:
        self._window.updates.event_count = count
        self.show()

    def failed(self, message: str, _details: str) -> None:
        self._window.status.showMessage(f"Cannot count the events: {message}", 8000)

    def show(self) -> None:
        """The title and the status bar, for the store open now (or none)."""
        window, session = self._window, self._window.session
        status, title = window.status, "Incident inspector"
        if session is None:
            status.show_store(None, read_only=False)
        else:
            status.show_store(session.label, read_only=session.read_only)
            status.show_counts(window.updates.event_count, window.updates.head)
            badge = " [read-only]" if session.read_only else ""
            title = f"{Path(session.label).name}{badge} — Incident inspector"
        status.show_live(self._live())
        status.live_label.setVisible(session is not None)  # nothing to watch
        window.setWindowTitle(title)
