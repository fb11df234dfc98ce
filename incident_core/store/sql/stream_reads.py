"""The SQL adapter's lean stream read: a stream's events as a fold needs them
(`StreamRow`: version, aggregate type, event type, schema version and the data as stored
JSON text), by the (aggregate_id, version) index, with no envelope, metadata or time read.
Loading an aggregate (`Application.state`, the inspector's state views, `incident state`)
reads this; the decoder validates each text straight into its event model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from incident_core.collector import collector_paused
from incident_core.ports import StreamRow
from incident_core.store.sql.queries import MAX_VERSION, E, Prepared, S

__all__ = ["STREAM_INFO", "STREAM_ROWS", "compiled", "cursor_of", "stream_rows"]

# A stream's `StreamInfo` columns by its primary key (no type processing: prepared).
STREAM_INFO = select(*S.c).where(S.c.aggregate_id == bindparam("aggregate_id"))

STREAM_ROWS = (select(E.c.version, E.c.aggregate_type, E.c.event_type, E.c.schema_version,
                      E.c.data)
               .where(E.c.aggregate_id == bindparam("aggregate_id"),
                      E.c.version > bindparam("after"), E.c.version <= bindparam("to"))
               .order_by(E.c.version))


_COMPILED: dict[tuple[Any, ...], Prepared] = {}


class cursor_of:  # lower case: used as a function, `with cursor_of(conn) as cursor`
    """A DBAPI cursor on `conn`, closed when the read ends, however it ends. A cursor left
    mid-statement (its page failed to build: a damaged row) keeps SQLite's read transaction
    open past the connection's return to the pool, so the WAL cannot be checkpointed, and
    keeps the connection alive past the store's close (a "zombie") for as long as anything,
    the error's traceback kept by a caller, holds it. A class, not a generator: it is on
    every load's path."""

    __slots__ = ("cursor",)

    def __init__(self, conn: Connection) -> None:
        self.cursor: Any = conn.connection.cursor()

    def __enter__(self) -> Any:
        return self.cursor

    def __exit__(self, *_exc: object) -> None:
        self.cursor.close()


def compiled(statement: Any, dialect: Any) -> Prepared:
    """A fixed statement of the read path (a module constant) compiled once per kind of
    database for the whole process: a load from a freshly opened store (the inspector, the
    `incident` command, a new Application) does not compile it again (about 1 ms each)."""
    key = (statement, type(dialect), dialect.paramstyle, dialect.server_version_info)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = Prepared(statement, dialect)
    return found


def stream_rows(statement: Prepared, cursor: Any, aggregate_id: str, after_version: int,
                to_version: int | None) -> list[StreamRow]:
    """The rows of `STREAM_ROWS` (prepared for the store's dialect) on a DBAPI cursor,
    fetched with the cyclic collector paused (it would scan every fresh row and text)."""
    params = {"aggregate_id": aggregate_id, "after": after_version,
              "to": MAX_VERSION if to_version is None else to_version}
    with collector_paused():
        return statement.run(cursor, params).fetchall()  # type: ignore[no-any-return]
