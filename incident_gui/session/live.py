"""Live updates: one long-lived thread blocks in `store.wait_for_change` and reports what
*other processes* recorded; our own commits come from `Application.subscribe`.

Both go through one `ChangeFeed`, so each change reaches the views once, in order, and the
watcher reads only the positions our own commits do not cover. `sig_changes(StoreChanges)`
is emitted from the watcher's thread or the committing thread and queued to the UI thread.
Nothing polls on the UI thread. While paused the watcher does not read (our own commits
still show); on resume it reports at once whatever happened meanwhile.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal

from incident_core import EventStore, IncidentError, RecordedEvent
from incident_gui.session.change_feed import ChangeFeed
from incident_gui.session.store_updates import MAX_EVENTS, StoreChanges

__all__ = ["LiveWatcher", "read_ranges"]

WAIT_S = 0.1  # how long `stop` may wait (a closing window waits for it)
RETRY_S = 1.0
OWN_GRACE_S = 0.2  # how long a head move waits for our own commit's notice


def read_ranges(store: EventStore, ranges: list[tuple[int, int]]) -> list[RecordedEvent] | None:
    """The events in the position ranges (after, upto]; None when there are too many."""
    if sum(upto - after for after, upto in ranges) > MAX_EVENTS:
        return None
    events: list[RecordedEvent] = []
    for after, upto in ranges:
        events += [e for e in store.read_events(after_position=after, limit=upto - after)
                   if e.position <= upto]
    return events


class LiveWatcher(QThread):
    """Reports the head changes of one store (own commits included) until stopped."""

    sig_changes = Signal(object)  # StoreChanges
    sig_failed = Signal(str)  # a problem, or "" once reading works again

    def __init__(self, store: EventStore, head: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveWatcher")
        self._store = store
        self.feed = ChangeFeed(head)
        self._live = threading.Event()
        self._live.set()
        self._stop = threading.Event()

    def own_committed(self, events: list[RecordedEvent]) -> None:
        """An `Application.subscribe` listener (runs on the committing thread)."""
        changes = self.feed.own_committed(events)
        if changes is not None and not self._stop.is_set():
            self.sig_changes.emit(changes)

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
                changes = self._next_changes()
            except IncidentError as exc:
                if not failing:
                    self.sig_failed.emit(str(exc))
                failing = True
                self._stop.wait(RETRY_S)
                continue
            if failing:
                self.sig_failed.emit("")  # recovered
            failing = False
            if changes is not None and not self._stop.is_set():
                self.sig_changes.emit(changes)

    def _next_changes(self) -> StoreChanges | None:
        known = self.feed.known
        head = self._store.wait_for_change(known, WAIT_S)
        if head <= known or not self._live.is_set():
            return None
        gaps = self.feed.gaps(head, OWN_GRACE_S)
        others = read_ranges(self._store, gaps)
        return self.feed.merge(head, others)
