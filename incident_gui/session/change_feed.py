"""One ordered feed of a store's changes for the window, each change read at most once.

Two sources meet here:

* **our own commits** arrive through `Application.subscribe` (`own_committed`, on the
  thread that committed) with the events as recorded — nothing needs reading;
* **other processes' commits** are read by the live watcher: it asks for the `gaps` in
  (known head, store head] that our own commits do not cover, reads only those, and
  hands them to `merge`.

Either way the feed gives back `StoreChanges` covering (known head, new head] in
position order, so a view never sees a change twice or out of order. Own events that
arrive after a gap (another process committed in between, not yet read) wait until the
watcher has read the gap. Thread-safe; no Qt here.
"""

from __future__ import annotations

import threading

from incident_core import RecordedEvent
from incident_gui.session.store_updates import StoreChanges, changes_from_events

__all__ = ["ChangeFeed"]


class ChangeFeed:
    """Tracks the head the views know and the own events not yet given to them."""

    def __init__(self, head: int) -> None:
        self._known = head
        self._own: dict[int, RecordedEvent] = {}
        self._cond = threading.Condition()

    @property
    def known(self) -> int:
        with self._cond:
            return self._known

    def own_committed(self, events: list[RecordedEvent]) -> StoreChanges | None:
        """Our own commit's events (any thread): the changes the views can take now."""
        with self._cond:
            for event in events:
                if event.position > self._known:
                    self._own[event.position] = event
            self._cond.notify_all()
            return self._take_run()

    def gaps(self, head: int, grace_s: float = 0.0) -> list[tuple[int, int]]:
        """The ranges (after, upto] of positions up to `head` that are not our own
        commits'. Waits up to `grace_s` for an own commit's notice to cover them (it
        comes just after its commit: reading those events would be reading them twice)."""
        with self._cond:
            self._cond.wait_for(lambda: not self._missing(head), grace_s)
            return self._missing(head)

    def merge(self, head: int, others: list[RecordedEvent] | None) -> StoreChanges | None:
        """The watcher read `others` (the gaps up to `head`; None: too many to read, the
        views reload): all the changes up to `head`."""
        with self._cond:
            if head <= self._known:
                return None
            old = self._known
            mine = [self._own.pop(p) for p in sorted(self._own) if p <= head]
            self._known = head
            events = None if others is None else sorted(
                [e for e in others if e.position > old] + mine, key=lambda e: e.position)
            merged = changes_from_events(old, head, events)
            more = self._take_run()
            return merged if more is None else _join(merged, more)

    def _missing(self, head: int) -> list[tuple[int, int]]:
        ranges: list[tuple[int, int]] = []
        start = self._known
        for position in sorted(p for p in self._own if p <= head):
            if position - 1 > start:
                ranges.append((start, position - 1))
            start = position
        if head > start:
            ranges.append((start, head))
        return ranges

    def _take_run(self) -> StoreChanges | None:
        """Own events that follow the known head without a gap."""
        run: list[RecordedEvent] = []
        while (event := self._own.pop(self._known + len(run) + 1, None)) is not None:
            run.append(event)
        if not run:
            return None
        old, self._known = self._known, self._known + len(run)
        return changes_from_events(old, self._known, run)


def _join(first: StoreChanges, second: StoreChanges) -> StoreChanges:
    if first.events is None or second.events is None:
        return StoreChanges(first.old_head, second.head, None, None)
    return changes_from_events(first.old_head, second.head, first.events + second.events)
