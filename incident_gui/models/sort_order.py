"""Loaded rows kept in a store sort order, for keyset-paged models (no Qt here).

Rows arrive page by page in the order the store sorted them; live rows are inserted where
that order puts them. Lookups by the rows' unique tiebreak (an event position, an
aggregate id) and insertion points are binary searches over the rows' sort keys.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Iterable
from functools import total_ordering
from typing import Any, Generic, TypeVar

from incident_core import RecordedEvent
from incident_core.ports.sorting import SortKey, event_cursor

__all__ = ["SortedRows"]

T = TypeVar("T")


@total_ordering
class _Reversed:
    """A key that sorts in the opposite order (for descending sorts)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.key == other.key

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.key < self.key)

    def __hash__(self) -> int:
        return hash(self.key)


class SortedRows(Generic[T]):
    """Rows in `sort` order. `cursor(row, sort)` gives (sort value, unique tiebreak) and
    `ident(row)` the tiebreak (defaults: events, by position)."""

    def __init__(self, sort: SortKey,
                 cursor: Callable[[Any, SortKey], tuple[Any, Any]] = event_cursor,
                 ident: Callable[[Any], Hashable] | None = None) -> None:
        self.sort = sort
        self._cursor = cursor
        self._ident = ident or _position
        self._rows: list[T] = []
        self._keys: list[Any] = []
        self._key_of: dict[Hashable, Any] = {}

    def _key(self, row: T) -> Any:
        key = self._cursor(row, self.sort)
        return _Reversed(key) if self.sort.descending else key

    def __len__(self) -> int:
        return len(self._rows)

    def at(self, row: int) -> T | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def last(self) -> T | None:
        return self._rows[-1] if self._rows else None

    def rows(self) -> list[T]:
        return list(self._rows)

    def row_of(self, ident: Hashable) -> int | None:
        key = self._key_of.get(ident)
        if key is None:
            return None
        at = bisect.bisect_left(self._keys, key)
        return at if at < len(self._keys) and self._keys[at] == key else None

    def extend(self, rows: Iterable[T]) -> None:
        """Append a page (already in order, after every loaded row)."""
        for row in rows:
            key = self._key(row)
            self._rows.append(row)
            self._keys.append(key)
            self._key_of[self._ident(row)] = key

    def insertion_row(self, row: T, *, complete: bool = False) -> int | None:
        """Where `row` goes; None when it sorts after every loaded row and more rows may
        follow (`complete=False`): a later page brings it."""
        at = bisect.bisect_left(self._keys, self._key(row))
        return None if at == len(self._keys) and not complete else at

    def insert(self, at: int, row: T) -> None:
        key = self._key(row)
        self._rows.insert(at, row)
        self._keys.insert(at, key)
        self._key_of[self._ident(row)] = key

    def remove(self, at: int) -> T:
        row = self._rows.pop(at)
        del self._keys[at]
        self._key_of.pop(self._ident(row), None)
        return row

    def replace(self, at: int, row: T) -> None:
        """Update a row in place (its sort key must not change)."""
        self._rows[at] = row


def _position(event: Any) -> Hashable:
    assert isinstance(event, RecordedEvent)
    return event.position
