"""The SQL adapter's tables and hot queries, built once with bound parameters (building a
statement per call costs more than running it: SQLAlchemy computes a cache key for every new
construct)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Select,
    and_,
    bindparam,
    case,
    func,
    insert,
    inspect,
    or_,
    select,
)

from incident_core.envelope import RecordedEvent
from incident_core.store.sql import schema
from incident_core.store.sql.stored_events import (
    MetadataRows,
    StoredEvent,
    page3,
    page4,
    replay_page,
)

__all__ = [
    "AFTER",
    "AFTER_TYPED",
    "CHECKPOINTS",
    "CHECKPOINTS_READ",
    "CP",
    "FOLLOWS",
    "HEAD",
    "INSERT_EVENTS",
    "MAX_VERSION",
    "NOTIFY_CHANNEL",
    "NO_LIMIT",
    "PG_APPEND_LOCK",
    "SELECT_EVENTS",
    "STREAM",
    "UP_TO",
    "E",
    "Prepared",
    "Reads",
    "S",
    "from_row",
    "has_table",
    "holds_nul",
    "linked",
    "reads",
]

E = schema.events
S = schema.streams
CP = schema.checkpoints
EVENT_COLUMNS = (E.c.position, E.c.event_id, E.c.aggregate_id, E.c.aggregate_type,
                  E.c.event_type, E.c.version, E.c.recorded_at, E.c.data, E.c.metadata,
                  E.c.schema_version)
SELECT_EVENTS = select(*EVENT_COLUMNS)
from_row = RecordedEvent.from_row
# Schema 3: the lifted ids come along (metadata inflated lazily, see store/slim.py).
SELECT_EVENTS3 = select(*EVENT_COLUMNS, E.c.command_id, E.c.causation_id, E.c.correlation_id)
from_row3 = StoredEvent.from_row3
# Schema 4: the lifted command type too (NULL: not lifted).
SELECT_EVENTS4 = select(*SELECT_EVENTS3.selected_columns, E.c.command_type)
# Any constant: the key of the transaction-scoped advisory lock that serialises appends on
# PostgreSQL, so positions become visible in commit order (readers never skip an event).
PG_APPEND_LOCK = 7_150_243_812
NOTIFY_CHANNEL = "incident_events"


def has_table(conn: Connection, name: str) -> bool:
    return bool(inspect(conn).has_table(name))


ReplayPage = Callable[[Iterable[Any], MetadataRows], list[RecordedEvent]]


class Reads:
    """The hot read statements for one schema version, and how their rows become events.

    `replay` is what `iter_events` reads: the `up_to` page, or (schemas 3 and 4) the same
    without the metadata, id and command type columns, which `replay_page` reads per page
    when first asked for with `metadata_range` (position >= first and <= last)."""

    def __init__(self, base: Select[Any], build: Callable[[Any], RecordedEvent],
                 page: Callable[[Iterable[Any]], list[RecordedEvent]],
                 lean: tuple[Select[Any], ReplayPage] | None = None) -> None:
        self.select = base
        self.from_row = build
        self.page = page
        self.stream = (base.where(E.c.aggregate_id == bindparam("aggregate_id"),
                                  E.c.version > bindparam("after"),
                                  E.c.version <= bindparam("to"))
                       .order_by(E.c.version).limit(bindparam("limit")))
        self.after = (base.where(E.c.position > bindparam("after"))
                      .order_by(E.c.position).limit(bindparam("limit")))
        self.after_typed = (base.where(E.c.position > bindparam("after"),
                                       E.c.event_type.in_(bindparam("types", expanding=True)))
                            .order_by(E.c.position).limit(bindparam("limit")))
        self.up_to = (base.where(E.c.position > bindparam("after"),
                                 E.c.position <= bindparam("up_to"))
                      .order_by(E.c.position).limit(bindparam("limit")))
        self.replay, self.replay_page = self.up_to, _whole_rows(page)
        if lean is not None:
            self.replay = (lean[0].where(E.c.position > bindparam("after"),
                                         E.c.position <= bindparam("up_to"))
                           .order_by(E.c.position).limit(bindparam("limit")))
            self.replay_page = lean[1]
        self._typed: dict[int, Select[Any]] = {}
        # (position, metadata, then the columns `base` reads after the metadata)
        self.metadata_range = (select(E.c.position, E.c.metadata,
                                      *base.selected_columns[len(EVENT_COLUMNS):])
                               .where(E.c.position >= bindparam("first"),
                                      E.c.position <= bindparam("last")))


    def after_types(self, count: int) -> Select[Any]:
        """`after_typed` with `count` event types bound one by one (`t0`, `t1`, ...), not
        by an expanding parameter: compiled once per count, it runs on the write
        transaction's cursor (`Prepared`) instead of through SQLAlchemy's execution."""
        found = self._typed.get(count)
        if found is None:
            types: list[Any] = [bindparam(f"t{i}") for i in range(count)]
            found = self._typed[count] = (
                self.select.where(E.c.position > bindparam("after"), E.c.event_type.in_(types))
                .order_by(E.c.position).limit(bindparam("limit")))
        return found


def _whole_rows(page: Callable[[Iterable[Any]], list[RecordedEvent]]) -> ReplayPage:
    """A replay page builder for rows that hold their metadata."""
    return lambda rows, _read: page(rows)


def _page2(rows: Iterable[Any]) -> list[RecordedEvent]:
    return list(map(from_row, rows))


# schemas 3 and 4's replay: every column but the metadata, the lifted ids and (schema 4)
# the lifted command type (see replay_page)
LEAN = select(E.c.position, E.c.event_id, E.c.aggregate_id, E.c.aggregate_type,
              E.c.event_type, E.c.version, E.c.recorded_at, E.c.data, E.c.schema_version)
READS = {2: Reads(SELECT_EVENTS, from_row, _page2),
         3: Reads(SELECT_EVENTS3, from_row3, page3, (LEAN, replay_page)),
         4: Reads(SELECT_EVENTS4, from_row3, page4, (LEAN, replay_page))}


def reads(schema_version: int) -> Reads:
    return READS[min(max(schema_version, 2), 4)]


def linked(key: str, value: str) -> Any:
    """Schema 3's condition for metadata[key] == value (key: command_id, causation_id or
    correlation_id), following the NULL-means-same-as-before chain (a direct command's
    first event stores no command id: its id is the command's); each branch is an equality
    on an indexed column, so SQLite and PostgreSQL answer it by index."""
    chain = [E.c.event_id, E.c.command_id, E.c.causation_id, E.c.correlation_id]
    chain = chain[:chain.index(E.c[key]) + 1]
    branches = []
    for depth in range(len(chain) - 1, -1, -1):
        nulls = [chain[k].is_(None) for k in range(depth + 1, len(chain))]
        branches.append(and_(chain[depth] == value, *nulls))
    return or_(*branches)


_V2 = READS[2]
STREAM, AFTER, AFTER_TYPED, UP_TO = _V2.stream, _V2.after, _V2.after_typed, _V2.up_to
HEAD = select(func.coalesce(func.max(E.c.position), 0))
INSERT_EVENTS = insert(E)
CHECKPOINTS = select(CP.c.name, CP.c.position)  # as stored (FOLLOWS: at the head)
# Schema 6: a checkpoint stored as FOLLOWS is at the head, whatever the head is: a command
# moves the projections and sagas it brings up to date with no checkpoint write. A
# checkpoint left behind by a transaction that appends is written as a real position then
# (`checkpoint_writes.settle`). Readers outside a write transaction read the head in the
# same statement.
FOLLOWS = -1
CHECKPOINTS_READ = select(CP.c.name, case((CP.c.position == FOLLOWS, HEAD.scalar_subquery()),
                                          else_=CP.c.position))
NO_LIMIT = 2**62
MAX_VERSION = 2**31 - 1  # versions are 32-bit integers in the schema


class Prepared:
    """A SQLAlchemy statement compiled once for a dialect and run straight on the DBAPI
    cursor: the write transaction's hot statements skip SQLAlchemy's per-execution work
    (about half of a dispatch's time), keeping SQL built from expressions, never strings.
    Only for statements whose columns need no type processing (text, integers, floats,
    booleans, which both drivers adapt themselves)."""

    __slots__ = ("defaults", "names", "pick", "sql")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}
        self.names = list(compiled.positiontup or ()) if compiled.positional else None
        # positional drivers take a tuple: picked in C by itemgetter, not a generator
        self.pick: Callable[[dict[str, Any]], Any] | None = None
        if self.names is not None:
            names = self.names
            self.pick = (itemgetter(*names) if len(names) > 1
                         else (lambda p: (p[names[0]],)) if names else (lambda p: ()))

    def args(self, params: dict[str, Any]) -> Any:
        merged = {**self.defaults, **params} if self.defaults else params
        return merged if self.pick is None else self.pick(merged)

    def run(self, cursor: Any, params: dict[str, Any] | None = None) -> Any:
        cursor.execute(self.sql, self.args(params or {}))
        return cursor

    def run_many(self, cursor: Any, rows: Sequence[dict[str, Any]]) -> None:
        if len(rows) == 1:  # a command's one row: execute costs less than executemany
            cursor.execute(self.sql, self.args(rows[0]))
        else:
            cursor.executemany(self.sql, [self.args(row) for row in rows])


def holds_nul(*texts: str | None) -> bool:
    """Whether a key, pattern or filter text holds a NUL character. No text the log keeps
    in a column of its own holds one (every adapter refuses it on the way in; event data
    keeps it escaped in its JSON), so such a read finds nothing, on every adapter alike:
    PostgreSQL would refuse the parameter and SQLite would cut the text at the NUL (a
    pattern `A\\x00*` matching the stream `A`)."""
    return any(text is not None and "\x00" in text for text in texts)
