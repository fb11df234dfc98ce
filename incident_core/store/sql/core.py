"""What every part of the SQL adapter shares: the engines and the dialect, statements
built once, projection table objects, read connections and the log's filters."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, bindparam, delete, false, select
from sqlalchemy import exc as sa_exc

from incident_core.collector import collector_paused
from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.ports import EventFilter, EventStore
from incident_core.projections.definition import ProjectionSpec
from incident_core.store.sql import aggregate_snapshots, schema
from incident_core.store.sql.dialect import Dialect
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.queries import (
    CP,
    MAX_VERSION,
    NO_LIMIT,
    E,
    Prepared,
    Reads,
    S,
    has_table,
    holds_nul,
    linked,
    reads,
)
from incident_core.store.sql.slim import Split, slim_row
from incident_core.store.sql.times import time_bound
from incident_core.store.sql.walcheck import WalCheckpointer
from incident_core.store.sql.writer_cache import Committed

__all__ = ["SqlStoreCore"]


class SqlStoreCore(EventStore):
    """The state and helpers of a SQL store that its reads and transactions share."""

    group_commit = True  # commits are durable writes; transactions have savepoints

    def __init__(self, engine: Engine, target: str, *, read_only: bool, sql_dialect: Dialect,
                 write_engine: Engine | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        super().__init__(target, read_only=read_only)
        self._on_close = on_close
        self.schema_version = SCHEMA_VERSION  # set by open_store to what the store holds
        self.engine = engine
        self.write_engine = write_engine or engine
        self.dialect = sql_dialect.name
        self.sql_dialect = sql_dialect  # what this database does differently
        # A single-writer database (SQLite) has one writer at a time anyway: the store keeps
        # one write connection and its transactions take turns on it (no pool
        # checkout/checkin per transaction).
        self._writer: Connection | None = None
        self._writer_lock = threading.RLock()
        self._tables: dict[str, Table] = {}
        # Statements are built once: building an upsert's `excluded` is costly per call.
        stmt = sql_dialect.insert(S)
        self.stream_upsert = stmt.on_conflict_do_update(index_elements=["aggregate_id"], set_={
            "version": stmt.excluded.version,
            "event_count": S.c.event_count + stmt.excluded.event_count,
            "last_recorded_at": stmt.excluded.last_recorded_at,
            "last_position": stmt.excluded.last_position,
        })
        stmt = sql_dialect.insert(CP)
        self.checkpoint_upsert = stmt.on_conflict_do_update(
            index_elements=["name"], set_={"position": stmt.excluded.position})
        self.checkpoint_replace = self.upsert(CP, ["name"])
        self._row_statements: dict[str, tuple[Any, Any, Any, Any]] = {}
        self._prepared: dict[str, Prepared] = {}
        self.dbapi: Any = engine.dialect.loaded_dbapi
        self.seen_tables: set[str] = set()
        self._split_cache: dict[str, Split] = {}
        self._checkpointer: WalCheckpointer | None = None
        # what the writer remembers after its last commit (single writer: writer_cache.py)
        self.writer_cache: Committed | None = None

    # -- plumbing ---------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[Connection]:
        pool = self.engine.pool  # `close()` replaces it (disposes this one)
        try:
            with self.engine.connect() as conn:
                try:
                    yield conn
                    conn.rollback()
                finally:
                    if self.engine.pool is not pool:  # closed during this read: a
                        conn.invalidate()  # disposed pool would keep it, the files open
        except sa_exc.SQLAlchemyError as exc:
            raise self.sql_dialect.translate(exc) from exc
        except self.dbapi.Error as exc:  # raised by a prepared statement on the cursor
            raise self.sql_dialect.translate(exc) from exc

    def table(self, spec: ProjectionSpec) -> Table:
        table = self._tables.get(spec.name)
        if table is None:
            table = self._tables[spec.name] = schema.projection_table(spec)
        return table

    def row_statements(self, spec: ProjectionSpec) -> tuple[Any, Any, Any, Any]:
        """(select by keys, upsert, delete by key, select by key) of a projection table,
        built once."""
        found = self._row_statements.get(spec.name)
        if found is None:
            table = self.table(spec)
            key = table.c[spec.key]
            found = (select(table).where(key.in_(bindparam("keys", expanding=True))),
                     self.upsert(table, [spec.key]), delete(table).where(key == bindparam("key")),
                     select(table).where(key == bindparam("key")))
            self._row_statements[spec.name] = found
        return found

    def prepared(self, name: str, statement: Any) -> Prepared:
        """`statement` compiled once for this store's dialect (see `Prepared`)."""
        found = self._prepared.get(name)
        if found is None:
            found = self._prepared[name] = Prepared(statement, self.engine.dialect)
        return found

    @property
    def reads(self) -> Reads:
        """The read statements of the schema this store holds (older ones are readable)."""
        return reads(self.schema_version)

    def run_read(self, name: str, cursor: Any, params: dict[str, Any]) -> list[RecordedEvent]:
        """A prepared read of `self.reads` on a DBAPI cursor, its page of events built with
        the cyclic collector paused (it would scan every fresh object of the page)."""
        r = self.reads  # the rows are read while the page is built, collector paused
        return self._built(r, self.prepared(f"{name}:{self.schema_version}",
                                            getattr(r, name)).run(cursor, params))

    @staticmethod
    def _built(r: Reads, rows: Iterable[Any]) -> list[RecordedEvent]:
        with collector_paused():
            return r.page(rows)

    def row_of(self, pending: PendingEvent, position: int) -> dict[str, Any]:
        """The row of an event being appended to this store (schema 3: slim, checksummed)."""
        return slim_row(pending, position, self._split_cache)

    def stream_on_cursor(self, cursor: Any, aggregate_id: str, after_version: int,
                         to_version: int | None = None,
                         limit: int | None = None) -> list[RecordedEvent]:
        params = {"aggregate_id": aggregate_id, "after": after_version,
                  "to": MAX_VERSION if to_version is None else to_version,
                  "limit": NO_LIMIT if limit is None else limit}
        return self.run_read("stream", cursor, params)

    def upsert(self, table: Table, key_columns: Sequence[str]) -> Any:
        return self.sql_dialect.upsert(table, list(key_columns))

    def _filtered(self, stmt: Select[Any], flt: EventFilter | None, *,
                  scan: bool = False) -> Select[Any]:
        if flt is None:
            return stmt
        if holds_nul(flt.aggregate_id, flt.text, flt.correlation_id, *flt.event_types):
            return stmt.where(false())  # nothing kept holds a NUL (`holds_nul`)
        if flt.aggregate_id:
            stmt = stmt.where(E.c.aggregate_id == flt.aggregate_id)
        if flt.event_types:
            # `scan`: a short position range, read in order and filtered as the rows go by
            # (`|| ''` keeps the planner off the type index, whose plan adds a temporary
            # B-tree sort per page on a store without statistics)
            typed = E.c.event_type.concat("") if scan else E.c.event_type
            stmt = stmt.where(typed.in_(flt.event_types))
        if flt.since:
            stmt = stmt.where(E.c.recorded_at >= time_bound(self.schema_version, flt.since))
        if flt.until:
            stmt = stmt.where(E.c.recorded_at < time_bound(self.schema_version, flt.until))
        if flt.text:
            stmt = stmt.where(E.c.data.icontains(flt.text, autoescape=True))
        if flt.correlation_id:
            stmt = stmt.where(self.metadata_is("correlation_id", flt.correlation_id))
        return stmt

    def metadata_is(self, key: str, value: str) -> Any:
        """metadata[key] == value (command_id, causation_id or correlation_id), by index
        where it can."""
        if key not in ("command_id", "causation_id", "correlation_id"):
            raise ValueError(f"cannot search metadata by {key!r}")
        if self.schema_version >= 3:  # ids stored once: follow the chain, by index
            return linked(key, value)
        if self.schema_version == 2 and key != "command_id":  # indexed columns
            return E.c[key] == value
        # a schema-1 store opened read-only (not migrated): search the metadata text
        return E.c.metadata.contains(f'"{key}":"{value}"', autoescape=True)

    def _has_projection_table(self, conn: Connection, spec: ProjectionSpec) -> bool:
        """Projection tables are never dropped for good, so a seen table is remembered."""
        if spec.name in self.seen_tables:
            return True
        found = has_table(conn, spec.name)
        if found:
            self.seen_tables.add(spec.name)
        return found

    def _has_snapshots(self, conn: Connection) -> bool:
        name = schema.aggregate_snapshots.name
        if name not in self.seen_tables and aggregate_snapshots.present(conn):
            self.seen_tables.add(name)
        return name in self.seen_tables
