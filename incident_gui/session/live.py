"""Live updates: a worker thread blocks in `store.wait_for_change` and reports changes.

Nothing polls on the UI thread. Whenever the store's head moves — events recorded by this
window, by the CLI or by another inspector alike — the watcher reads what changed (on its
own thread) and emits `sig_changes(StoreChanges)`, queued to the UI thread. While paused
it does not watch; on resume it reports at once whatever happened meanwhile.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal

from incident_core import EventStore, IncidentError
from incident_gui.session.store_updates import collect_changes

__all__ = ["LiveWatcher"]

WAIT_S = 0.25
RETRY_S = 1.0


class LiveWatcher(QThread):
    """Reports head changes of one store until stopped."""

    sig_changes = Signal(object)  # StoreChanges
    sig_failed = Signal(str)  # a problem, or "" once reading works again

    def __init__(self, store: EventStore, head: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveWatcher")
        self._store = store
        self._known = head
        self._live = threading.Event()
        self._live.set()
        self._stop = threading.Event()

    def set_paused(self, paused: bool) -> None:
        if paused:
            self._live.clear()
        else:
            self._live.set()

    @property
    def paused(self) -> bool:
        return not self._live.is_set()

    def stop(self) -> None:
        """End the thread (returns within about WAIT_S)."""
        self._stop.set()
        self._live.set()
        self.requestInterruption()
        self.wait()

    def run(self) -> None:
        failing = False
        while not self._stop.is_set():
            if not self._live.wait(WAIT_S) or self._stop.is_set():
                continue
            try:
                head = self._store.wait_for_change(self._known, WAIT_S)
                changes = None
                if head != self._known:
                    changes = collect_changes(self._store, self._known, head)
            except IncidentError as exc:
                if not failing:
                    self.sig_failed.emit(str(exc))
                failing = True
                self._stop.wait(RETRY_S)
                continue
            if failing:
                self.sig_failed.emit("")  # recovered
            failing = False
            if changes is not None and self._live.is_set() and not self._stop.is_set():
                self._known = head
                self.sig_changes.emit(changes)
