"""Sorted keyset reads for the SQL adapter (see `incident_core.ports.sorting`).

The cursor condition is a row-value comparison, `(column, tiebreak) > (:value, :tiebreak)`,
which SQLite and PostgreSQL both answer from an index on (column, tiebreak) when there is
one, so a page deep in a sorted million-event log costs what the first page costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, tuple_

from incident_core.ports.sorting import Cursor
from incident_core.store.sql.queries import E, S

__all__ = ["by_last_activity", "by_last_position", "sorted_page"]


def _after(column: Any, tiebreak: Any, after: Cursor, descending: bool,
           nullable: bool) -> ColumnElement[bool]:
    value, tie = after
    pair = tuple_(column, tiebreak)
    beyond = pair < tuple_(value, tie) if descending else pair > tuple_(value, tie)
    if not nullable:
        return beyond
    # NULLs come after every value ascending, before every value descending.
    if value is None:
        nulls_after = and_(column.is_(None), tiebreak < tie if descending else tiebreak > tie)
        return or_(nulls_after, column.is_not(None)) if descending else nulls_after
    if descending:
        return and_(column.is_not(None), beyond)
    return or_(column.is_(None), beyond)


def sorted_page(stmt: Select[Any], column: Any, tiebreak: Any, *, descending: bool,
                after: Cursor | None, limit: int | None,
                nullable: bool = False) -> Select[Any]:
    """`stmt` ordered by (column, tiebreak), keyset after `after`, limited."""
    if after is not None:
        stmt = stmt.where(_after(column, tiebreak, after, descending, nullable))
    order: list[Any] = []
    if nullable:
        nulls = column.is_(None)
        order.append(nulls.desc() if descending else nulls)
    order += [column.desc(), tiebreak.desc()] if descending else [column, tiebreak]
    stmt = stmt.order_by(*order)
    return stmt if limit is None else stmt.limit(limit)


def by_last_activity(where: Callable[[Select[Any]], Select[Any]], *, descending: bool,
                     after: Cursor | None, limit: int | None,
                     within: tuple[int, int] | None = None) -> Select[Any]:
    """Streams by last activity, found by walking the events by position (the primary key)
    and keeping each stream's last event: no index on the streams' last position is needed,
    and a page costs about as many event reads as it shows streams. `where` adds the
    streams' filters to a `select(*S.c)`; `within` (low, high) bounds the walk to those
    positions (a filter that few streams pass would otherwise walk the whole log)."""
    stmt = where(select(*S.c).join(E, and_(E.c.aggregate_id == S.c.aggregate_id,
                                           E.c.position == S.c.last_position)))
    if after is not None:
        stmt = stmt.where(E.c.position < after[0] if descending else E.c.position > after[0])
    if within is not None:
        stmt = stmt.where(E.c.position.between(*within))
    stmt = stmt.order_by(E.c.position.desc() if descending else E.c.position)
    return stmt if limit is None else stmt.limit(limit)


def by_last_position(where: Callable[[Select[Any]], Select[Any]], *, descending: bool,
                     beyond: int, limit: int | None) -> Select[Any]:
    """Streams by last activity whose last event is beyond position `beyond` in that order
    (before it, newest first), read from the streams themselves: one pass over the
    streams, sorted, for the rest of a page a bounded walk of the events did not fill."""
    last = S.c.last_position
    stmt = where(select(*S.c)).where(last < beyond if descending else last > beyond)
    stmt = stmt.order_by(last.desc() if descending else last)
    return stmt if limit is None else stmt.limit(limit)
