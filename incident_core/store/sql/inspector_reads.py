"""The SQL adapter's inspector queries (the `InspectorQueries` port): streams, types,
the activity histogram, sorted keyset pages and row lineage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, func, select

from incident_core.envelope import RecordedEvent
from incident_core.ports import EventFilter, StreamInfo
from incident_core.ports.sorting import EVENT_SORT_COLUMNS, STREAM_SORT_COLUMNS, Cursor, SortKey
from incident_core.projections.definition import ProjectionSpec
from incident_core.store.sql import lineage as sql_lineage
from incident_core.store.sql.core import SqlStoreCore
from incident_core.store.sql.queries import E, S, holds_nul
from incident_core.store.sql.sorted import by_last_activity, by_last_position, sorted_page
from incident_core.store.sql.stream_reads import STREAM_INFO, compiled, cursor_of
from incident_core.store.sql.times import time_bound

__all__ = ["ACTIVITY_WALK", "SqlInspector", "distinct_values", "glob_to_like"]

ACTIVITY_WALK = 20_000  # events walked for a filtered page by activity before the streams


def glob_to_like(pattern: str) -> str:
    """A user's filter as a LIKE pattern: a glob when it has * or ?, else a substring."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if "*" in pattern or "?" in pattern:
        return escaped.replace("*", "%").replace("?", "_")
    return f"%{escaped}%"


def distinct_values(column: Any) -> Select[Any]:
    """The distinct non-NULL values of an indexed column, in order, by a loose index scan:
    each value is the least one above the previous (one index seek per value), so a few
    event types among ten million events cost a few seeks, not a scan of the index.
    `column` must lead an index (the events' type index, the streams' type index)."""
    value = func.min(column).label("value")
    found = select(value).cte("distinct_values", recursive=True)
    following = (select(func.min(column)).where(column > found.c.value)
                 .scalar_subquery().label("value"))
    found = found.union_all(select(following).where(found.c.value.is_not(None)))
    return select(found.c.value).where(found.c.value.is_not(None)).order_by(found.c.value)


class SqlInspector(SqlStoreCore):
    """Browsing a SQL store."""

    def event_count(self) -> int:
        with self.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(E)).scalar_one())

    def _streams_where(self, stmt: Select[Any], aggregate_type: str | None,
                       pattern: str | None) -> Select[Any]:
        if holds_nul(aggregate_type, pattern):
            return stmt.where(false())  # nothing kept holds a NUL (`holds_nul`)
        if aggregate_type:
            stmt = stmt.where(S.c.aggregate_type == aggregate_type)
        if pattern:
            like = glob_to_like(pattern)
            stmt = stmt.where(S.c.aggregate_id.ilike(like, escape="\\"))
        return stmt

    def streams(self, *, aggregate_type: str | None = None, pattern: str | None = None,
                after_id: str | None = None, limit: int | None = None) -> list[StreamInfo]:
        stmt = self._streams_where(select(*S.c), aggregate_type, pattern)
        if after_id is not None:
            stmt = stmt.where(S.c.aggregate_id > after_id)
        stmt = stmt.order_by(S.c.aggregate_id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.reading() as conn:
            return [StreamInfo(*r) for r in conn.execute(stmt)]

    def stream_count(self, *, aggregate_type: str | None = None,
                     pattern: str | None = None) -> int:
        stmt = self._streams_where(select(func.count()).select_from(S), aggregate_type, pattern)
        with self.reading() as conn:
            return int(conn.execute(stmt).scalar_one())

    def stream(self, aggregate_id: str) -> StreamInfo | None:
        if holds_nul(aggregate_id):
            return None
        statement = compiled(STREAM_INFO, self.engine.dialect)  # loading an aggregate asks
        with self.reading() as conn, cursor_of(conn) as cursor:
            row = statement.run(cursor, {"aggregate_id": aggregate_id}).fetchone()
        return None if row is None else StreamInfo(*row)

    def aggregate_types(self) -> list[str]:
        with self.reading() as conn:
            return [r[0] for r in conn.execute(distinct_values(S.c.aggregate_type))]

    def event_types(self) -> list[str]:
        with self.reading() as conn:
            return [r[0] for r in conn.execute(distinct_values(E.c.event_type))]

    def event_histogram(self, *, buckets: int = 60, aggregate_id: str | None = None,
                        since: str | None = None, until: str | None = None,
                        ) -> tuple[list[str], dict[str, list[int]]]:
        from incident_core.store.histogram import adaptive_histogram

        return adaptive_histogram(
            lambda low, high, count: self._fine_histogram(aggregate_id, low, high, count),
            buckets, since, until)

    def _fine_histogram(self, aggregate_id: str | None, since: str | None, until: str | None,
                        buckets: int) -> tuple[float, float, dict[str, list[int]]] | None:
        from incident_core.store.histogram import span_of

        def scoped(stmt: Select[Any]) -> Select[Any]:
            return self._filtered(stmt, EventFilter(aggregate_id=aggregate_id, since=since,
                                                    until=until))

        epoch = (E.c.recorded_at / 1_000_000.0 if self.schema_version >= 4  # microseconds
                 else self.sql_dialect.epoch(E.c.recorded_at))
        with self.reading() as conn:
            low, high = conn.execute(scoped(select(func.min(epoch), func.max(epoch)))).one()
            if low is None:
                return None
            start, width = span_of(float(low), float(high), buckets)
            bucket = func.floor((epoch - start) / width)
            stmt = scoped(select(bucket, E.c.event_type, func.count())
                          .group_by(bucket, E.c.event_type))
            counts: dict[str, list[int]] = {}
            for index, event_type, count in conn.execute(stmt):
                series = counts.setdefault(event_type, [0] * buckets)
                series[min(max(int(index), 0), buckets - 1)] += int(count)
        return start, width, counts

    def read_events_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                           limit: int | None = None,
                           filter: EventFilter | None = None) -> list[RecordedEvent]:
        sort.check(EVENT_SORT_COLUMNS)
        reads = self.reads  # this schema's columns (schema 3: the lifted ids too)
        if after is not None and sort.column == "recorded_at":
            after = (time_bound(self.schema_version, after[0]), after[1])
        stmt = sorted_page(self._filtered(reads.select, filter), E.c[sort.column],
                           E.c.position, descending=sort.descending, after=after, limit=limit)
        with self.reading() as conn, conn.execute(stmt) as rows:
            return list(map(reads.from_row, rows))

    def streams_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                       limit: int | None = None, aggregate_type: str | None = None,
                       pattern: str | None = None) -> list[StreamInfo]:
        sort.check(STREAM_SORT_COLUMNS)
        if sort.column == "last_position" and (aggregate_type or pattern):
            return self._filtered_by_activity(sort.descending, after, limit,
                                              aggregate_type, pattern)
        if sort.column == "last_position":  # the default order: no index to sort by
            stmt = by_last_activity(lambda s: self._streams_where(s, aggregate_type, pattern),
                                    descending=sort.descending, after=after, limit=limit)
        else:
            stmt = sorted_page(self._streams_where(select(*S.c), aggregate_type, pattern),
                               S.c[sort.column], S.c.aggregate_id,
                               descending=sort.descending, after=after, limit=limit)
        with self.reading() as conn:
            return [StreamInfo(*r) for r in conn.execute(stmt)]

    def _filtered_by_activity(self, descending: bool, after: Cursor | None,
                              limit: int | None, aggregate_type: str | None,
                              pattern: str | None) -> list[StreamInfo]:
        """A filtered page by last activity: the events nearest the cursor are walked
        first (`ACTIVITY_WALK` positions: a filter many streams pass fills its page
        there), and the streams beyond them are read from the streams table, sorted, for
        the rest (a filter few pass then costs one pass over the streams, not over every
        event: 16 s at 10M events for a single match)."""
        def where(stmt: Select[Any]) -> Select[Any]:
            return self._streams_where(stmt, aggregate_type, pattern)

        with self.reading() as conn:
            head = int(conn.execute(select(func.max(E.c.position))).scalar_one() or 0)
            start = (head + 1 if descending else 0) if after is None else int(after[0])
            low, high = ((start - ACTIVITY_WALK, start - 1) if descending
                         else (start + 1, start + ACTIVITY_WALK))
            rows = [StreamInfo(*r) for r in conn.execute(by_last_activity(
                where, descending=descending, after=after, limit=limit, within=(low, high)))]
            wanted = None if limit is None else limit - len(rows)
            if wanted is None or wanted > 0:
                rows += [StreamInfo(*r) for r in conn.execute(by_last_position(
                    where, descending=descending, beyond=low if descending else high,
                    limit=wanted))]
        return rows

    def projection_rows_sorted(self, spec: ProjectionSpec, sort: SortKey, *,
                               after: Cursor | None = None,
                               limit: int | None = None) -> list[dict[str, Any]]:
        sort.check([c.name for c in spec.columns])
        table = self.table(spec)
        stmt = sorted_page(select(table), table.c[sort.column], table.c[spec.key],
                           descending=sort.descending, after=after, limit=limit,
                           nullable=sort.column != spec.key)
        with self.reading() as conn:
            if not self._has_projection_table(conn, spec):
                return []
            with conn.execute(stmt) as rows:
                return [dict(r._mapping) for r in rows]

    def lineage_events(self, projection: str, key: str, *,
                       until: int | None = None) -> list[RecordedEvent]:
        if holds_nul(projection, key):
            return []
        r = self.reads
        with self.reading() as conn:
            stmt = sql_lineage.events(conn, r.select, projection, key, until)
            if stmt is None:
                return []
            with conn.execute(stmt) as rows:
                return self._built(r, rows)

    def lineage_start(self, projection: str) -> int | None:
        with self.reading() as conn:
            return sql_lineage.start(conn, projection)
