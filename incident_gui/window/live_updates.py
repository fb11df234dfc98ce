"""The window's view of the store's head: fed once per change.

Our own commits reach the views through `Application.subscribe`, other processes' through
the `LiveWatcher`; both through one `ChangeFeed` (`incident_gui.session.change_feed`), so
each change is read at most once and applied once. `LiveUpdates` counts events, moves the
head and emits `changed(StoreChanges)`, which every view follows
(`incident_gui.window.change_fanout`).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal

from incident_core import Application
from incident_gui.session.live import LiveWatcher
from incident_gui.session.store_updates import StoreChanges

__all__ = ["LiveUpdates"]


class LiveUpdates(QObject):
    """Watches one application's store while it is open."""

    changed = Signal(object)  # StoreChanges, on the UI thread
    failed = Signal(str)  # a problem reading, or "" once it works again

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.head = 0
        self.event_count = 0
        self._watcher: LiveWatcher | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._paused = False

    def start(self, app: Application, head: int) -> None:
        """Watch `app` from `head` (read when it was opened, off the UI thread)."""
        self.stop()
        self.head = self.event_count = head
        watcher = self._watcher = LiveWatcher(app.store, head, self)
        watcher.set_paused(self._paused)
        watcher.sig_changes.connect(self._on_changes, Qt.ConnectionType.QueuedConnection)
        watcher.sig_failed.connect(self.failed, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = app.subscribe(watcher.own_committed)
        watcher.start()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher.deleteLater()  # its queued changes, if any, are dropped with it
            self._watcher = None
        self.head = self.event_count = 0

    def set_paused(self, paused: bool) -> None:
        """Paused: other processes' changes wait; our own commits still show."""
        self._paused = paused
        if self._watcher is not None:
            self._watcher.set_paused(paused)

    def restart_from(self, app: Application, head: int) -> None:
        """F5: the views read everything again up to `head`; follow on from there."""
        self.start(app, head)

    def _on_changes(self, changes: StoreChanges) -> None:
        if self.sender() is not self._watcher or changes.head <= self.head:
            return
        changes = changes.since(self.head)
        self.head = changes.head
        events = changes.events
        self.event_count += len(events) if events is not None else changes.head - changes.old_head
        self.changed.emit(changes)
