"""The SQLAlchemy adapter: one dialect-aware implementation for SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy import exc as sa_exc

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import ReadOnlyError
from incident_core.ports import (
    EventFilter,
    EventStore,
    LineageEntry,
    StoredSnapshot,
    StoreTransaction,
    StreamInfo,
)
from incident_core.ports.sorting import (
    EVENT_SORT_COLUMNS,
    STREAM_SORT_COLUMNS,
    Cursor,
    SortKey,
)
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.projections.definition import ProjectionSpec
from incident_core.store import snapshot_rows
from incident_core.store.sql import lineage as sql_lineage
from incident_core.store.sql import meta as sql_meta
from incident_core.store.sql import parking as sql_parking
from incident_core.store.sql import saga_outcomes as sql_saga_outcomes
from incident_core.store.sql import schema
from incident_core.store.sql.errors import translate_errors
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.queries import (
    CP,
    HEAD,
    MAX_VERSION,
    NO_LIMIT,
    NOTIFY_CHANNEL,
    PG_APPEND_LOCK,
    E,
    Prepared,
    Reads,
    S,
    has_table,
    linked,
    reads,
)
from incident_core.store.sql.slim import slim_row
from incident_core.store.sql.sorted import by_last_activity, sorted_page
from incident_core.store.sql.transaction import SqlTransaction
from incident_core.store.sql.walcheck import WalCheckpointer

__all__ = ["SqlEventStore"]

WRITER_CACHE_KB = 64 * 1024
BULK_EVENTS = 1000  # a transaction appending this many checkpoints the WAL itself
RANGE_SCAN = 50_000  # a filtered read over at most this many positions scans the range


def glob_to_like(pattern: str) -> str:
    """A user's filter as a LIKE pattern: a glob when it has * or ?, else a substring."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if "*" in pattern or "?" in pattern:
        return escaped.replace("*", "%").replace("?", "_")
    return f"%{escaped}%"


def upsert_of(dialect: str) -> Callable[[Table], Any]:
    """The dialect's INSERT with ON CONFLICT (PostgreSQL's dialect is imported only for a
    PostgreSQL store: it costs tens of milliseconds of start-up)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


class SqlEventStore(EventStore):
    """Events, streams, checkpoints and projection tables in one SQL database."""

    group_commit = True  # commits are durable writes; transactions have savepoints

    def __init__(self, engine: Engine, target: str, *, read_only: bool,
                 write_engine: Engine | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        super().__init__(target, read_only=read_only)
        self._on_close = on_close
        self.schema_version = SCHEMA_VERSION  # set by open_store to what the store holds
        self.engine = engine
        self._write_engine = write_engine or engine
        self.dialect = engine.dialect.name
        # SQLite has one writer at a time anyway: the store keeps one write connection and
        # its transactions take turns on it (no pool checkout/checkin per transaction).
        self._writer: Connection | None = None
        self._writer_lock = threading.RLock()
        self._tables: dict[str, Table] = {}
        self._upsert: Callable[[Table], Any] = upsert_of(self.dialect)
        # Statements are built once: building an upsert's `excluded` is costly per call.
        stmt = self._upsert(S)
        self.stream_upsert = stmt.on_conflict_do_update(index_elements=["aggregate_id"], set_={
            "version": stmt.excluded.version,
            "event_count": S.c.event_count + stmt.excluded.event_count,
            "last_recorded_at": stmt.excluded.last_recorded_at,
            "last_position": stmt.excluded.last_position,
        })
        stmt = self._upsert(CP)
        self.checkpoint_upsert = stmt.on_conflict_do_update(
            index_elements=["name"], set_={"position": stmt.excluded.position})
        self.checkpoint_replace = self.upsert(CP, ["name"])
        self._row_statements: dict[str, tuple[Any, Any, Any, Any]] = {}
        self._prepared: dict[str, Prepared] = {}
        self.dbapi: Any = engine.dialect.loaded_dbapi
        self._seen_tables: set[str] = set()
        self._split_cache: dict[str, tuple[str, tuple[str | None, ...]]] = {}
        self._checkpointer: WalCheckpointer | None = None
        # (data_version, head, checkpoints) after the writer's last commit (SQLite)
        self.writer_cache: tuple[int, int, dict[str, int]] | None = None
        self.lineage_ready = False  # incident_lineage exists (see sql_lineage)

    # -- plumbing ---------------------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
                conn.rollback()
        except sa_exc.SQLAlchemyError as exc:
            raise translate_errors(exc) from exc
        except self.dbapi.Error as exc:  # raised by a prepared statement on the cursor
            raise translate_errors(exc) from exc

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
        enabled = gc.isenabled()
        gc.disable()
        try:
            return r.page(rows)
        finally:
            if enabled:
                gc.enable()

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
        stmt = self._upsert(table)
        updates = {c.name: stmt.excluded[c.name] for c in table.columns
                   if c.name not in key_columns}
        return stmt.on_conflict_do_update(index_elements=list(key_columns), set_=updates)

    # -- metadata ---------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        with self._reading() as conn:
            return sql_meta.read_meta(conn)

    def add_meta(self, values: Mapping[str, str]) -> dict[str, str]:
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        try:
            with self._write_engine.begin() as conn:
                sql_meta.add_meta(conn, self._upsert, values)
        except sa_exc.SQLAlchemyError as exc:
            raise translate_errors(exc) from exc
        return self.meta()

    def projection_signatures(self) -> dict[str, str]:
        with self._reading() as conn:
            return sql_meta.projection_signatures(conn)

    # -- writes -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        if self.dialect == "sqlite":
            with self._writer_lock:
                yield from self._sqlite_transaction()
            return
        try:
            with self._write_engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(select(func.pg_advisory_xact_lock(PG_APPEND_LOCK)))
                tx = SqlTransaction(self, conn)
                yield tx
                tx.flush()
                if tx.appended and self.dialect == "postgresql":
                    conn.execute(select(func.pg_notify(NOTIFY_CHANNEL, str(tx.head()))))
        except sa_exc.SQLAlchemyError as exc:
            raise translate_errors(exc) from exc
        except self.dbapi.Error as exc:  # raised by a prepared statement on the cursor
            raise translate_errors(exc) from exc

    def _sqlite_transaction(self) -> Iterator[StoreTransaction]:
        conn = self._writer
        try:
            if conn is None or conn.closed or conn.invalidated:
                if conn is not None:
                    conn.close()
                conn = self._writer = self._write_engine.connect()
                self.writer_cache = None  # data_version counts per connection
                # WAL checkpoints off the command path: see store/walcheck.py
                raw = conn.connection.driver_connection
                raw.execute("PRAGMA wal_autocheckpoint = 0")  # type: ignore[union-attr]
                # a bigger page cache for the writer: the unique indexes of random ids
                # spill SQLite's default 2 MB on large imports (memory is only used if needed)
                raw.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KB}")  # type: ignore[union-attr]
            try:
                with conn.begin():
                    tx = SqlTransaction(self, conn)
                    yield tx
                    tx.flush()
                    entry = tx.cache_entry()
            except BaseException:
                self.writer_cache = None
                raise
            self.writer_cache = entry
        except (sa_exc.SQLAlchemyError, self.dbapi.Error) as exc:
            raise translate_errors(exc) from exc
        if self._checkpointer is None:
            self._checkpointer = WalCheckpointer(self.target)
        bulk = tx.appended_count >= BULK_EVENTS  # an import's batch, not a command
        if self._checkpointer.committed() or bulk:  # the background fell behind, or bulk
            with suppress(self.dbapi.Error):  # the commit stands whatever happens here
                conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def create_schema(self) -> None:
        """Create the store's tables (idempotent); called by `open_store(create=True)`."""
        try:
            with self._write_engine.begin() as conn:
                schema.metadata.create_all(conn)
        except sa_exc.SQLAlchemyError as exc:
            raise translate_errors(exc) from exc

    # -- reads ------------------------------------------------------------------------
    def head(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(HEAD).scalar_one())

    def event_count(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(select(func.count()).select_from(E)).scalar_one())

    def _filtered(self, stmt: Select[Any], flt: EventFilter | None, *,
                  scan: bool = False) -> Select[Any]:
        if flt is None:
            return stmt
        if flt.aggregate_id:
            stmt = stmt.where(E.c.aggregate_id == flt.aggregate_id)
        if flt.event_types:
            # `scan`: a short position range, read in order and filtered as the rows go by
            # (`|| ''` keeps the planner off the type index, whose plan adds a temporary
            # B-tree sort per page on a store without statistics)
            typed = E.c.event_type.concat("") if scan else E.c.event_type
            stmt = stmt.where(typed.in_(flt.event_types))
        if flt.since:
            stmt = stmt.where(E.c.recorded_at >= flt.since)
        if flt.until:
            stmt = stmt.where(E.c.recorded_at < flt.until)
        if flt.text:
            stmt = stmt.where(E.c.data.icontains(flt.text, autoescape=True))
        if flt.correlation_id:
            stmt = stmt.where(self.metadata_is("correlation_id", flt.correlation_id))
        return stmt

    def metadata_is(self, key: str, value: str) -> Any:
        """metadata[key] == value (causation_id or correlation_id), by index where it can."""
        if key not in ("causation_id", "correlation_id"):
            raise ValueError(f"cannot search metadata by {key!r}")
        if self.schema_version >= 3:  # ids stored once: follow the chain, by index
            return linked(key, value)
        if self.schema_version == 2:  # indexed columns
            return E.c[key] == value
        # a schema-1 store opened read-only (not migrated): search the metadata text
        return E.c.metadata.contains(f'"{key}":"{value}"', autoescape=True)

    def read_events(self, *, after_position: int = 0, before_position: int | None = None,
                    limit: int | None = None, filter: EventFilter | None = None,
                    descending: bool = False) -> list[RecordedEvent]:
        r = self.reads
        short = before_position is not None and before_position - after_position <= RANGE_SCAN
        stmt = self._filtered(r.select, filter, scan=short and not descending)
        if after_position:
            stmt = stmt.where(E.c.position > after_position)
        if before_position is not None:
            stmt = stmt.where(E.c.position < before_position)
        stmt = stmt.order_by(E.c.position.desc() if descending else E.c.position)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._reading() as conn:
            return self._built(r, conn.execute(stmt))

    def iter_events(self, *, after_position: int = 0, up_to: int | None = None,
                    batch_size: int = 5000) -> Iterator[list[RecordedEvent]]:
        last = after_position
        params = {"up_to": NO_LIMIT if up_to is None else up_to, "limit": batch_size}
        while True:
            with self._reading() as conn:
                batch = self._replayed(conn.connection.cursor(), {**params, "after": last})
            if not batch:
                return
            yield batch
            last = batch[-1].position
            if len(batch) < batch_size:
                return

    def _replayed(self, cursor: Any, params: dict[str, Any]) -> list[RecordedEvent]:
        """A page of `iter_events`: without its metadata where the schema allows, read for
        the page when first asked for (`metadata_range`), collector paused meanwhile."""
        r = self.reads
        rows = self.prepared(f"replay:{self.schema_version}", r.replay).run(cursor, params)
        enabled = gc.isenabled()
        gc.disable()
        try:
            return r.replay_page(rows, self._metadata_range)
        finally:
            if enabled:
                gc.enable()

    def _metadata_range(self, first: int, last: int) -> list[Any]:
        statement = self.prepared(f"metadata_range:{self.schema_version}",
                                  self.reads.metadata_range)
        with self._reading() as conn:
            return list(statement.run(conn.connection.cursor(),
                                      {"first": first, "last": last}).fetchall())

    def read_stream(self, aggregate_id: str, *, after_version: int = 0,
                    to_version: int | None = None,
                    limit: int | None = None) -> list[RecordedEvent]:
        with self._reading() as conn:
            return self.stream_on_cursor(conn.connection.cursor(), aggregate_id, after_version,
                                         to_version, limit)

    def get_event(self, event_id: str) -> RecordedEvent | None:
        r = self.reads
        with self._reading() as conn:
            row = conn.execute(r.select.where(E.c.event_id == event_id)).first()
        return None if row is None else r.from_row(row)

    def events_with_metadata(self, key: str, value: str,
                             limit: int = 1000) -> list[RecordedEvent]:
        condition = self.metadata_is(key, value)
        r = self.reads
        stmt = r.select.where(condition).order_by(E.c.position).limit(limit)
        with self._reading() as conn:
            return list(map(r.from_row, conn.execute(stmt)))

    def _streams_where(self, stmt: Select[Any], aggregate_type: str | None,
                       pattern: str | None) -> Select[Any]:
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
        with self._reading() as conn:
            return [StreamInfo(*r) for r in conn.execute(stmt)]

    def stream_count(self, *, aggregate_type: str | None = None,
                     pattern: str | None = None) -> int:
        stmt = self._streams_where(select(func.count()).select_from(S), aggregate_type, pattern)
        with self._reading() as conn:
            return int(conn.execute(stmt).scalar_one())

    def stream(self, aggregate_id: str) -> StreamInfo | None:
        with self._reading() as conn:
            row = conn.execute(select(*S.c).where(S.c.aggregate_id == aggregate_id)).first()
        return None if row is None else StreamInfo(*row)

    def aggregate_types(self) -> list[str]:
        with self._reading() as conn:
            stmt = select(S.c.aggregate_type).distinct().order_by(S.c.aggregate_type)
            return [r[0] for r in conn.execute(stmt)]

    def event_types(self) -> list[str]:
        with self._reading() as conn:
            stmt = select(E.c.event_type).distinct().order_by(E.c.event_type)
            return [r[0] for r in conn.execute(stmt)]

    def _epoch(self) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import TIMESTAMP

            return func.extract("epoch", func.cast(E.c.recorded_at, TIMESTAMP(True)))
        return (func.julianday(E.c.recorded_at) - 2440587.5) * 86400.0

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
            if aggregate_id:
                stmt = stmt.where(E.c.aggregate_id == aggregate_id)
            return self._filtered(stmt, EventFilter(since=since, until=until))

        with self._reading() as conn:
            low, high = conn.execute(scoped(select(func.min(self._epoch()),
                                                   func.max(self._epoch())))).one()
            if low is None:
                return None
            start, width = span_of(float(low), float(high), buckets)
            bucket = func.floor((self._epoch() - start) / width)
            stmt = scoped(select(bucket, E.c.event_type, func.count())
                          .group_by(bucket, E.c.event_type))
            counts: dict[str, list[int]] = {}
            for index, event_type, count in conn.execute(stmt):
                series = counts.setdefault(event_type, [0] * buckets)
                series[min(max(int(index), 0), buckets - 1)] += int(count)
        return start, width, counts

    def projection_rows(self, spec: ProjectionSpec, *, after_key: str | None = None,
                        limit: int | None = None) -> list[dict[str, Any]]:
        table = self.table(spec)
        key = table.c[spec.key]
        stmt = select(table)
        if after_key is not None:
            stmt = stmt.where(key > after_key)
        stmt = stmt.order_by(key)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._reading() as conn:
            if not self._has_projection_table(conn, spec):
                return []
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def projection_row_count(self, spec: ProjectionSpec) -> int:
        with self._reading() as conn:
            if not self._has_projection_table(conn, spec):
                return 0
            return int(conn.execute(select(func.count()).select_from(self.table(spec)))
                       .scalar_one())

    def _has_projection_table(self, conn: Connection, spec: ProjectionSpec) -> bool:
        """Projection tables are never dropped for good, so a seen table is remembered."""
        if spec.name in self._seen_tables:
            return True
        found = has_table(conn, spec.name)
        if found:
            self._seen_tables.add(spec.name)
        return found

    # -- sorted keyset reads (incident_core.store.sorting) ---------------------------------
    def read_events_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                           limit: int | None = None,
                           filter: EventFilter | None = None) -> list[RecordedEvent]:
        sort.check(EVENT_SORT_COLUMNS)
        reads = self.reads  # this schema's columns (schema 3: the lifted ids too)
        stmt = sorted_page(self._filtered(reads.select, filter), E.c[sort.column],
                           E.c.position, descending=sort.descending, after=after, limit=limit)
        with self._reading() as conn:
            return list(map(reads.from_row, conn.execute(stmt)))

    def streams_sorted(self, sort: SortKey, *, after: Cursor | None = None,
                       limit: int | None = None, aggregate_type: str | None = None,
                       pattern: str | None = None) -> list[StreamInfo]:
        sort.check(STREAM_SORT_COLUMNS)
        if sort.column == "last_position":  # the default order: no index to sort by
            stmt = by_last_activity(lambda s: self._streams_where(s, aggregate_type, pattern),
                                    descending=sort.descending, after=after, limit=limit)
        else:
            stmt = sorted_page(self._streams_where(select(*S.c), aggregate_type, pattern),
                               S.c[sort.column], S.c.aggregate_id,
                               descending=sort.descending, after=after, limit=limit)
        with self._reading() as conn:
            return [StreamInfo(*r) for r in conn.execute(stmt)]

    def projection_rows_sorted(self, spec: ProjectionSpec, sort: SortKey, *,
                               after: Cursor | None = None,
                               limit: int | None = None) -> list[dict[str, Any]]:
        sort.check([c.name for c in spec.columns])
        table = self.table(spec)
        stmt = sorted_page(select(table), table.c[sort.column], table.c[spec.key],
                           descending=sort.descending, after=after, limit=limit,
                           nullable=sort.column != spec.key)
        with self._reading() as conn:
            if not self._has_projection_table(conn, spec):
                return []
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def checkpoints(self) -> dict[str, int]:
        with self._reading() as conn:
            return {name: int(pos) for name, pos in conn.execute(select(CP.c.name, CP.c.position))}

    def parked_steps(self, *, include_skipped: bool = False,
                     process_manager: str | None = None) -> list[ParkedStep]:
        with self._reading() as conn:
            return sql_parking.parked_steps(conn, include_skipped=include_skipped,
                                            process_manager=process_manager)

    def saga_outcomes(self, *, correlation_id: str) -> list[SagaOutcome]:
        with self._reading() as conn:
            return sql_saga_outcomes.saga_outcomes(conn, correlation_id)

    def row_history(self, projection: str, key: str) -> list[LineageEntry]:
        with self._reading() as conn:
            return sql_lineage.history(conn, projection, key)

    def rows_changed_at(self, position: int, *,
                        projections: Sequence[str] | None = None) -> list[LineageEntry]:
        with self._reading() as conn:
            return sql_lineage.changed_at(conn, position, projections)
    # -- aggregate snapshots (incident_core.store.snapshot_rows) ------------------------
    def _has_snapshots(self, conn: Connection) -> bool:
        name = schema.aggregate_snapshots.name
        if name not in self._seen_tables and snapshot_rows.present(conn):
            self._seen_tables.add(name)
        return name in self._seen_tables

    def latest_snapshot(self, aggregate_id: str, aggregate_type: str, fingerprint: str,
                        at_version: int | None = None) -> StoredSnapshot | None:
        with self._reading() as conn:
            if not self._has_snapshots(conn):
                return None
            return snapshot_rows.latest(conn, aggregate_id, aggregate_type, fingerprint,
                                        at_version)

    def snapshot_versions(self, aggregate_ids: Sequence[str]) -> dict[str, int]:
        with self._reading() as conn:
            if not self._has_snapshots(conn):
                return {}
            return snapshot_rows.versions(conn, aggregate_ids)

    def wait_for_change(self, known_head: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            current = self.head()
            remaining = deadline - time.monotonic()
            if current != known_head or remaining <= 0:
                return current
            time.sleep(min(0.1, remaining))

    def close(self) -> None:
        with self._writer_lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.engine.dispose()
        if self._write_engine is not self.engine:
            self._write_engine.dispose()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
