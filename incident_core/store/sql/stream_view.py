"""Schema 6's `incident_streams`: a view, so that a command writes no stream row.

A stream's id and type are written once, with its first event (`schema.stream_types`); its
version, event count, last time and last position are those of its last event, found by
the events' (aggregate_id, version) index (SQLite: the index holds the position, so the
last event costs two index seeks). Versions start at 1 and have no gaps (the engine and
`incident import` both refuse anything else), so the event count is the version.

The view keeps the columns of schema 5's table, the time as the store's text
(`envelope.format_micros`), so every reader of `schema.streams` (the inspector's lists,
their filters and keyset sorts, `incident streams`) reads either schema alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Text, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from incident_core.store.sql import schema
from incident_core.store.sql.dialect import Dialect
from incident_core.store.sql.queries import has_table

__all__ = ["MicrosText", "create", "stream_insert", "view_select"]

_INSERTS: dict[Dialect, Any] = {}  # building an INSERT ... ON CONFLICT costs


class MicrosText(GenericFunction[str]):
    """Microseconds since the epoch as the store's text form of a time
    (`2026-12-01T15:35:03.862446+00:00`), in SQL."""

    type = Text()
    inherit_cache = True
    name = "incident_micros_text"


def _parts(element: MicrosText, compiler: Any, **kw: Any) -> tuple[str, str]:
    """(whole seconds, microseconds) of the value, floored as `format_micros` does (a
    time before 1970 too)."""
    (value,) = element.clauses
    v = compiler.process(value, **kw)
    micros = f"((({v}) % 1000000 + 1000000) % 1000000)"
    return f"((({v}) - {micros}) / 1000000)", micros


@compiles(MicrosText, "sqlite")
def _sqlite(element: MicrosText, compiler: Any, **kw: Any) -> str:
    seconds, micros = _parts(element, compiler, **kw)
    return (f"(strftime('%Y-%m-%dT%H:%M:%S', {seconds}, 'unixepoch') || '.' || "
            f"substr('00000' || {micros}, -6, 6) || '+00:00')")


@compiles(MicrosText, "postgresql")
def _postgres(element: MicrosText, compiler: Any, **kw: Any) -> str:
    seconds, micros = _parts(element, compiler, **kw)
    return (f"(to_char(to_timestamp({seconds}) AT TIME ZONE 'UTC', "
            f"'YYYY-MM-DD\"T\"HH24:MI:SS') || '.' || lpad({micros}::text, 6, '0') "
            f"|| '+00:00')")


def view_select() -> Any:
    """The view's query: each stream row joined to its last event."""
    T, E = schema.stream_types, schema.events
    inner = E.alias("v")
    last = (select(inner.c.position).where(inner.c.aggregate_id == T.c.aggregate_id)
            .order_by(inner.c.version.desc()).limit(1).correlate(T)
            .scalar_subquery())
    return (select(T.c.aggregate_id, T.c.aggregate_type, E.c.version,
                   E.c.version.label("event_count"),
                   MicrosText(E.c.recorded_at).label("last_recorded_at"),
                   E.c.position.label("last_position"))
            .select_from(T.join(E, E.c.position == last)))


def stream_insert(dialect: Dialect) -> Any:
    """The INSERT of a new stream's row (nothing if it has one: a batch of imported streams
    may hold one already there)."""
    found = _INSERTS.get(dialect)
    if found is None:
        found = _INSERTS[dialect] = dialect.insert(schema.stream_types).on_conflict_do_nothing()
    return found


def create(conn: Connection) -> None:
    """Make the view (in a new store, or by the migration to schema 6), unless there (two
    creators of a store take turns under the write lock)."""
    if has_table(conn, schema.streams.name):
        return
    body = view_select().compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    conn.execute(text(f"CREATE VIEW {schema.streams.name} AS {body}"))  # our own SQL

