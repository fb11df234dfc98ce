"""The SQLAlchemy adapter: one dialect-aware implementation for SQLite and PostgreSQL
(what differs is asked of its `Dialect`). Its reads are split by port role: the event log
(`log_reads.py`) and the inspector's queries (`inspector_reads.py`); this module adds the
write transaction, the metadata, projections, the saga ledger and snapshots."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy import exc as sa_exc

from incident_core.errors import IncidentError, ReadOnlyError
from incident_core.ports import StoredSnapshot, StoreTransaction
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.projections.definition import ProjectionSpec
from incident_core.store.closed import closed_error
from incident_core.store.sql import aggregate_snapshots, schema
from incident_core.store.sql import meta as sql_meta
from incident_core.store.sql import parking as sql_parking
from incident_core.store.sql import saga_outcomes as sql_saga_outcomes
from incident_core.store.sql.closed_pool import shut
from incident_core.store.sql.inspector_reads import SqlInspector
from incident_core.store.sql.log_reads import SqlEventLog
from incident_core.store.sql.queries import CHECKPOINTS_READ, holds_nul
from incident_core.store.sql.running_reads import RunningReads
from incident_core.store.sql.transaction_roles import SqlStoreTransaction
from incident_core.store.sql.walcheck import WalCheckpointer

__all__ = ["SqlEventStore"]


class SqlEventStore(SqlEventLog, SqlInspector):
    """Events, streams, checkpoints and projection tables in one SQL database."""

    _writer_raw: Any = None  # the driver connection of `_writer` (single writer)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running = RunningReads(self.sql_dialect.interrupt)  # reads in flight

    # -- reads another thread can stop ------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with super().reading() as conn, self._running.held(conn.connection.driver_connection):
            yield conn

    def interrupt(self, thread: int | None = None) -> int:
        return self._running.interrupt(thread)

    # -- metadata ---------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        with self.reading() as conn:
            return sql_meta.read_meta(conn)

    def add_meta(self, values: Mapping[str, str]) -> dict[str, str]:
        self.refuse_if_closed()
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        try:
            with self.write_engine.begin() as conn:
                sql_meta.add_meta(conn, self.sql_dialect.insert, values)
        except sa_exc.SQLAlchemyError as exc:
            raise self.sql_dialect.translate(exc) from exc
        return self.meta()

    def projection_signatures(self) -> dict[str, str]:
        with self.reading() as conn:
            return sql_meta.projection_signatures(conn)

    # -- writes -----------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        self.refuse_if_closed()
        if self.read_only:
            raise ReadOnlyError(f"{self.target} is open read-only")
        if self.sql_dialect.single_writer:
            return _WriterTransaction(self)
        return self._locked_transaction()

    @contextmanager
    def _locked_transaction(self) -> Iterator[StoreTransaction]:
        """A transaction on a connection of its own, under the dialect's write lock."""
        try:
            with self.write_engine.begin() as conn:
                self.sql_dialect.lock(conn)
                tx = SqlStoreTransaction(self, conn)
                try:
                    yield tx
                    tx.flush()
                    if tx.appended:
                        self.sql_dialect.announce(conn, tx.head())
                finally:
                    tx.end()
        except (sa_exc.SQLAlchemyError, self.dbapi.Error) as exc:
            raise self.sql_dialect.translate(exc) from exc

    def _begin_writing(self) -> tuple[Connection, SqlStoreTransaction]:
        """Take the writer (held until `_stop_writing`) and begin a transaction on it."""
        self._writer_lock.acquire()
        try:
            conn = self._writer_connection()
            raw = self._writer_raw
            self.sql_dialect.begin_write(raw, self.target)
            return conn, SqlStoreTransaction(self, conn, raw)
        except BaseException:
            self._writer_lock.release()
            raise

    def _stop_writing(self) -> None:
        self._writer_lock.release()

    def _writer_connection(self) -> Connection:
        conn = self._writer
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                conn.close()
            conn = self._writer = self.write_engine.connect()
            self._writer_raw = conn.connection.driver_connection
            self.writer_cache = None  # data_version counts per connection
            self.sql_dialect.prepare_writer(conn)
        return conn

    def create_schema(self) -> None:
        """Create the tables and the meta rows in one transaction (idempotent), under the
        write lock so that concurrent creators queue up; called by `open_store(create=True)`."""
        try:
            with self.write_engine.begin() as conn:
                self.sql_dialect.lock(conn)
                self.sql_dialect.complete_schema()
                schema.metadata.create_all(conn)
                sql_meta.add_meta(conn, self.sql_dialect.insert,
                                  {row["key"]: row["value"] for row in sql_meta.format_rows()})
        except sa_exc.SQLAlchemyError as exc:
            raise self.sql_dialect.translate(exc) from exc

    # -- projections, the saga ledger, snapshots -------------------------------------
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
        with self.reading() as conn:
            if not self._has_projection_table(conn, spec):
                return []
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def projection_row_count(self, spec: ProjectionSpec) -> int:
        with self.reading() as conn:
            if not self._has_projection_table(conn, spec):
                return 0
            return int(conn.execute(select(func.count()).select_from(self.table(spec)))
                       .scalar_one())

    def checkpoints(self) -> dict[str, int]:
        with self.reading() as conn:  # one statement: a follower reads the head it follows
            return {name: int(pos) for name, pos in conn.execute(CHECKPOINTS_READ)}

    def parked_steps(self, *, include_skipped: bool = False,
                     process_manager: str | None = None) -> list[ParkedStep]:
        with self.reading() as conn:
            return sql_parking.parked_steps(conn, include_skipped=include_skipped,
                                            process_manager=process_manager)

    def saga_outcomes(self, *, correlation_id: str) -> list[SagaOutcome]:
        if holds_nul(correlation_id):
            return []
        with self.reading() as conn:
            return sql_saga_outcomes.saga_outcomes(conn, correlation_id)

    def latest_snapshot(self, aggregate_id: str, aggregate_type: str, fingerprint: str,
                        at_version: int | None = None) -> StoredSnapshot | None:
        if holds_nul(aggregate_id, aggregate_type, fingerprint):
            return None
        with self.reading() as conn:
            if not self._has_snapshots(conn):
                return None
            return aggregate_snapshots.latest(conn, aggregate_id, aggregate_type, fingerprint,
                                        at_version)

    def snapshot_versions(self, aggregate_ids: Sequence[str]) -> dict[str, int]:
        aggregate_ids = [key for key in aggregate_ids if not holds_nul(key)]
        with self.reading() as conn:
            if not self._has_snapshots(conn):
                return {}
            return aggregate_snapshots.versions(conn, aggregate_ids)

    def refuse_if_closed(self) -> None:
        """Raise "the store is closed" after `close()` (reads raise it when they connect)."""
        if self.closed:
            raise closed_error(self.target)

    def close(self) -> None:
        """Release every connection and thread of the store, and refuse every read and
        write from now on (`closed_pool.py`): nothing reopens the files. Idempotent."""
        self.closed = True
        with self._writer_lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
            if self._writer is not None:
                self._writer.close()
                self._writer = None
                self._writer_raw = None
        shut(self.engine, self.target)
        if self.write_engine is not self.engine:
            shut(self.write_engine, self.target)
        if self._on_close is not None:
            self._on_close()
            self._on_close = None


class _WriterTransaction:
    """A transaction on the store's one write connection (see `Dialect.single_writer`),
    begun and committed on the driver connection (SQLAlchemy joins it only if a statement
    goes through it), remembering committed state for the next one. A class rather than a
    generator: it runs for every command. Driver errors come out as the library's own."""

    __slots__ = ("conn", "store", "tx")

    def __init__(self, store: SqlEventStore) -> None:
        self.store = store

    def __enter__(self) -> StoreTransaction:
        try:
            self.conn, self.tx = self.store._begin_writing()
        except BaseException as exc:
            if (error := self._translated(exc)) is not None:
                raise error from exc
            raise
        return self.tx

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 _tb: TracebackType | None) -> None:
        store = self.store
        try:
            try:
                self._end(exc)
            except BaseException as failed:
                if (error := self._translated(failed)) is not None:
                    raise error from failed
                raise
            if exc is not None:
                if (error := self._translated(exc)) is not None:
                    raise error from exc
                return  # the body's own error goes on as it is
            if store._checkpointer is None:  # WAL checkpoints off the command path: walcheck
                store._checkpointer = WalCheckpointer(store.target)
            store.sql_dialect.after_commit(self.conn, store._checkpointer,
                                           self.tx.appended_count)
        finally:
            store._stop_writing()

    def _end(self, exc: BaseException | None) -> None:
        """Commit (`exc` None) or roll back; the writer's memory follows."""
        store, tx = self.store, self.tx
        try:
            if exc is not None:
                store.writer_cache = None
                tx.rollback()
                return
            try:
                tx.flush()
                entry = tx.cache_entry()
                tx.commit()
            except BaseException:
                store.writer_cache = None
                tx.rollback()
                raise
        finally:
            tx.end()
        store.writer_cache = None if entry is None else tx.changes.merged(
            store.writer_cache, *entry)

    def _translated(self, exc: BaseException) -> IncidentError | None:
        """The library's own error for a driver's (SQLAlchemy's or the DBAPI's)."""
        if isinstance(exc, (sa_exc.SQLAlchemyError, self.store.dbapi.Error)):
            return self.store.sql_dialect.translate(exc)
        return None
