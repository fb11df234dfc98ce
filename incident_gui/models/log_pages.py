"""The pages of the global log in indexed mode: row r *is* position r + 1, PAGE_SIZE rows
to a page, and only the MAX_CACHED_PAGES that arrived last are kept. Plain Python: the
model (`global_log_model.py`) decides what to read; this holds what was read."""

from __future__ import annotations

from collections import OrderedDict

from incident_core import RecordedEvent

__all__ = ["MAX_CACHED_PAGES", "PAGE_SIZE", "LogPages"]

PAGE_SIZE = 200
MAX_CACHED_PAGES = 100


class LogPages:
    """Pages of events by page index (page p holds positions p * PAGE_SIZE + 1 onwards)."""

    def __init__(self) -> None:
        self._pages: OrderedDict[int, list[RecordedEvent]] = OrderedDict()

    def clear(self) -> None:
        self._pages.clear()

    def indexes(self) -> list[int]:
        """The pages held, least recently arrived first."""
        return list(self._pages)

    def event_at(self, row: int) -> RecordedEvent | None:
        """The event of `row`, or None when its page is not held (or ends before it)."""
        page = self._pages.get(row // PAGE_SIZE)
        if page is not None and row % PAGE_SIZE < len(page):
            return page[row % PAGE_SIZE]
        return None

    def keep(self, page: int, events: list[RecordedEvent]) -> bool:
        """Hold `events` as page `page`, dropping the oldest page beyond the limit. False,
        holding nothing, when their positions are not the page's contiguous positions."""
        start = page * PAGE_SIZE
        if any(e.position != start + i + 1 for i, e in enumerate(events)):
            return False
        self._pages[page] = events
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        return True

    def extend(self, old: int, head: int, events: list[RecordedEvent] | None) -> bool:
        """Complete the partial last page (rows up to `old`) with `events` (positions
        old+1..head); False when they are not exactly those, or that page is not held."""
        page = self._pages.get((old - 1) // PAGE_SIZE)
        fresh = [] if events is None else [e for e in events if e.position > old]
        if page is None or [e.position for e in fresh] != list(range(old + 1, head + 1)):
            return False
        for event in fresh:
            self._pages.setdefault((event.position - 1) // PAGE_SIZE, []).append(event)
        return True

    def drop(self, page: int) -> None:
        self._pages.pop(page, None)
