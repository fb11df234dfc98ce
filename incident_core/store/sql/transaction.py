"""The SQL adapter's write transaction: appends buffered until the next read or commit,
checkpoints read once and written only when what is stored must change (schema 6: none
after a command, see `checkpoint_writes`), projection rows in bulk, savepoints for group
commit. The saga, lineage and snapshot roles are added in `transaction_roles.py`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select
from sqlalchemy import exc as sa_exc

from incident_core.envelope import PendingEvent, RecordedEvent
from incident_core.errors import ConcurrencyError, IncidentError, StoreError
from incident_core.ports import StoreTransaction, StreamRow
from incident_core.projections.definition import ProjectionSpec
from incident_core.store.sql import projection_rows, schema
from incident_core.store.sql.checkpoint_writes import Checkpoints
from incident_core.store.sql.queries import (
    CHECKPOINTS,
    CP,
    HEAD,
    INSERT_EVENTS,
    NO_LIMIT,
    E,
    has_table,
)
from incident_core.store.sql.stream_reads import STREAM_ROWS, compiled, stream_rows
from incident_core.store.sql.writer_cache import Changes, Committed

if TYPE_CHECKING:
    from incident_core.store.sql.core import SqlStoreCore

__all__ = ["SqlTransaction"]


class SqlTransaction(StoreTransaction):
    """The event log, checkpoint and projection roles of a write transaction."""

    def __init__(self, store: SqlStoreCore, conn: Connection, raw: Any = None) -> None:
        """`conn` in a transaction; or (`raw`: its driver connection, in a transaction
        begun on it) joined by SQLAlchemy when first used."""
        self.store = store
        self._conn = conn
        self._raw = raw
        self._joined: Any = None  # SQLAlchemy's transaction, when it joined the driver's
        self._head: int | None = None
        self._start: int | None = None  # the head when this transaction began
        self._settled: int | None = None  # the head the checkpoints were last settled at
        self.appended = False
        self.appended_count = 0
        self._checkpoints: Checkpoints | None = None
        self._unwritten: list[Any] = []  # row dicts, or `append_rows` tuples
        self._touched: dict[str, dict[str, Any]] = {}
        self._cursor: Any = None
        self._version: int | None = None  # SQLite's PRAGMA data_version, once read
        self._made: set[str] = set()  # side tables created by this transaction
        self.changes = Changes()  # what the writer remembers if this transaction commits

    def memory(self) -> Committed | None:
        """The single writer's memory of committed state (`writer_cache.py`), valid while
        no other connection has committed since it was made: one cheap PRAGMA per
        transaction instead of queries. None when there is none, or this transaction
        stopped using it."""
        cache = self.store.writer_cache
        if cache is None or not self.changes.tracking:
            return None
        if self._version is None:
            self._version = self.store.sql_dialect.data_version(self.cursor)
        if cache.version != self._version:
            self.store.writer_cache = None
            return None
        return cache

    def _from_cache(self) -> bool:
        """Head and checkpoints from the writer's memory."""
        cache = self.memory()
        if cache is None:
            return False
        if self._head is None:
            self._head = self._start = self._settled = cache.head
        if self._checkpoints is None:
            start = cache.head if self._start is None else self._start
            self._checkpoints = Checkpoints(dict(cache.checkpoints), start)
        return True

    def cache_entry(self) -> tuple[int, int, dict[str, int]] | None:
        """(data_version, head, checkpoints) the writer may remember after this transaction
        commits (called before the commit, under the write lock): None unless head and
        checkpoints are both known (what this transaction did not read, it did not change:
        the writer's memory knows it, if nobody else committed)."""
        if not self.store.sql_dialect.single_writer:
            return None
        if self._head is None or self._checkpoints is None:
            self._from_cache()
        if self._head is None or self._checkpoints is None:
            return None
        if self._version is None:
            self._version = self.store.sql_dialect.data_version(self.cursor)
        return self._version, self._head, dict(self._checkpoints.stored)

    @property
    def conn(self) -> Connection:
        """This transaction's SQLAlchemy connection (for what is not on the hot path)."""
        if self._raw is not None and self._joined is None:
            self._joined = self._conn.begin()  # joins the open transaction (no BEGIN)
        return self._conn

    @property
    def cursor(self) -> Any:
        """A DBAPI cursor on this transaction's connection, for the prepared statements."""
        if self._cursor is None:
            self._cursor = (self._raw if self._raw is not None
                            else self._conn.connection).cursor()
        return self._cursor

    def end(self) -> None:
        """Close this transaction's cursor once it is committed or rolled back. A cursor
        keeps its last statement prepared when that statement failed (a version conflict's
        insert) or was not read to its end, and SQLite keeps a connection with a prepared
        statement alive past its close (a "zombie": the store's files stay open in this
        process) for as long as anything, an error's traceback holding this transaction,
        holds the cursor."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            try:  # noqa: SIM105 - not `suppress` (a Python-level manager) on every commit
                cursor.close()
            except self.store.dbapi.Error:  # its connection is gone already
                pass

    def commit(self) -> None:
        """Commit a transaction begun on the driver connection."""
        if self._joined is not None:
            self._joined.commit()
        else:
            self._raw.commit()

    def rollback(self) -> None:
        """Roll back a transaction begun on the driver connection (as far as it can)."""
        if self._joined is not None:
            self._joined.rollback()
        elif self._raw.in_transaction:
            self._raw.rollback()

    def head(self) -> int:
        if self._head is None and not self._from_cache():
            prepared = self.store.prepared("head", HEAD)
            self._head = self._start = self._settled = int(
                prepared.run(self.cursor).fetchone()[0])
        assert self._head is not None
        return self._head

    def read_stream(self, aggregate_id: str, *, after_version: int = 0) -> list[RecordedEvent]:
        self._write_events()
        return self.store.stream_on_cursor(self.cursor, aggregate_id, after_version)

    def read_stream_rows(self, aggregate_id: str, *,
                         after_version: int = 0) -> list[StreamRow]:
        self._write_events()
        return stream_rows(compiled(STREAM_ROWS, self.store.engine.dialect), self.cursor,
                           aggregate_id, after_version, None)

    def append(self, events: Sequence[PendingEvent]) -> list[RecordedEvent]:
        """Assign positions now; the rows are written in bulk before the next read in this
        transaction or at commit (a taken version raises ConcurrencyError then)."""
        position = self.head()
        recorded = []
        rows, touched = self._unwritten, self._touched
        row_of = self.store.row_of
        for pending in events:
            position += 1
            rows.append(row_of(pending, position))
            recorded.append(RecordedEvent.from_pending(pending, position))
            entry = touched.get(pending.aggregate_id)
            if entry is None:
                touched[pending.aggregate_id] = {
                    "aggregate_id": pending.aggregate_id,
                    "aggregate_type": pending.aggregate_type, "version": pending.version,
                    "event_count": 1, "last_recorded_at": pending.recorded_at,
                    "last_position": position}
            else:
                entry.update(version=pending.version, event_count=entry["event_count"] + 1,
                             last_recorded_at=pending.recorded_at, last_position=position)
        self._head = position
        self.appended = self.appended or bool(events)
        self.appended_count += len(events)
        return recorded

    def append_rows(self, rows: Sequence[Any], streams: dict[str, dict[str, Any]]) -> None:
        """Append events whose rows are already built in this store's form, at the
        positions after `head()` (an import's: `import_rows`), and the stream entries they
        touch: dicts, written like `append`'s, or tuples in the order the prepared INSERT
        takes its parameters (a positional driver's; position first), written at once."""
        if not rows:
            return
        positional = type(rows[0]) is tuple
        first = rows[0][0] if positional else rows[0]["position"]
        if first != self.head() + 1:
            raise StoreError(f"rows from position {first} do not follow the "
                             f"head {self.head()}")
        self._write_events()
        self._unwritten, self._touched = list(rows), streams
        self._head = first + len(rows) - 1
        self.appended = True
        self.appended_count += len(rows)
        if positional:  # never mixed with the dicts `append` buffers
            self._write_events()

    def _write_events(self) -> None:
        if not self._unwritten:
            return
        rows, touched = self._unwritten, self._touched
        self._unwritten, self._touched = [], {}
        insert = self.store.prepared("insert_events", INSERT_EVENTS)
        try:
            if type(rows[0]) is tuple:  # `append_rows`' own, in the INSERT's order
                self.cursor.executemany(insert.sql, rows)
            else:
                insert.run_many(self.cursor, rows)
        except self.store.dbapi.IntegrityError as exc:
            raise self._conflict(rows, exc) from exc
        self.store.prepared("stream_upsert", self.store.stream_upsert).run_many(
            self.cursor, list(touched.values()))

    def _conflict(self, rows: Sequence[Any], exc: Exception) -> IncidentError:
        message = str(exc).lower()
        if "event_id" in message:
            return StoreError(f"an event id is already recorded: {exc}")
        first = rows[0]
        if type(first) is tuple:
            first = dict(zip(self.store.prepared("insert_events", INSERT_EVENTS).names or (),
                             first, strict=True))
        return ConcurrencyError(first["aggregate_id"], first["version"])

    def events_after(self, position: int, *, event_types: Sequence[str] | None = None,
                     limit: int | None = None) -> list[RecordedEvent]:
        self._write_events()
        params: dict[str, Any] = {"after": position,
                                  "limit": NO_LIMIT if limit is None else limit}
        if event_types is None:
            return self.store.run_read("after", self.cursor, params)
        if not event_types:
            return []
        store, count = self.store, len(event_types)
        params.update((f"t{i}", name) for i, name in enumerate(event_types))
        r = store.reads
        prepared = store.prepared(f"after_types:{store.schema_version}:{count}",
                                  r.after_types(count))
        return r.page(prepared.run(self.cursor, params))

    def events_caused_by(self, causation_id: str) -> list[RecordedEvent]:
        self._write_events()
        reads = self.store.reads
        stmt = (reads.select.where(self.store.metadata_is("causation_id", causation_id))
                .order_by(E.c.position))
        return list(map(reads.from_row, self.conn.execute(stmt)))

    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        self._write_events()
        found: set[str] = set()
        ids = iter(event_ids)
        while chunk := list(islice(ids, 500)):
            stmt = select(E.c.event_id).where(E.c.event_id.in_(chunk))
            found.update(r[0] for r in self.conn.execute(stmt))
        return found

    def get_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        return projection_rows.get_rows(self, spec, keys)

    def put_rows(self, spec: ProjectionSpec, rows: Sequence[dict[str, Any]]) -> None:
        projection_rows.put_rows(self, spec, rows)

    def delete_rows(self, spec: ProjectionSpec, keys: Sequence[str]) -> None:
        projection_rows.delete_rows(self, spec, keys)

    def _book(self) -> Checkpoints:
        if self._checkpoints is None and not self._from_cache():  # else one query for all
            prepared = self.store.prepared("checkpoints", CHECKPOINTS)
            stored = {n: int(p) for n, p in prepared.run(self.cursor).fetchall()}
            start = self.head() if self._start is None else self._start
            self._checkpoints = Checkpoints(stored, start)  # FOLLOWS: at the start head
        assert self._checkpoints is not None
        return self._checkpoints

    def checkpoint(self, name: str) -> int | None:
        return (self._checkpoints or self._book()).logical.get(name)

    def set_checkpoint(self, name: str, position: int) -> None:
        (self._checkpoints or self._book()).set(name, position)

    def flush(self) -> None:
        """Write what is still buffered: events, then what the checkpoints must say at the
        head now (`checkpoint_writes`: nothing after a command that moved them all)."""
        self._write_events()
        book = self._checkpoints
        if (book is not None and book.dirty) or self._head != self._settled:
            head = self.head()
            self._book().settle(self.store, self.cursor, head)
            self._settled = head

    def ensure_projection(self, spec: ProjectionSpec) -> bool:
        self.flush()
        stmt = select(CP.c.signature).where(CP.c.name == spec.name)
        signature = self.conn.execute(stmt).scalar()
        if signature == spec.signature and has_table(self.conn, spec.name):
            return False
        self.changes.stop()  # its rows are gone
        table = self.store.table(spec)
        table.drop(self.conn, checkfirst=True)
        table.create(self.conn)
        self.clear_lineage(spec.name)
        self._write_checkpoint(spec, 0)
        return True

    def _write_checkpoint(self, spec: ProjectionSpec, position: int) -> None:
        self.flush()
        self.checkpoint(spec.name)  # loaded first, so what this transaction knows stays true
        self.conn.execute(self.store.checkpoint_replace, {
            "name": spec.name, "position": position, "signature": spec.signature})
        self._book().written(spec.name, position)

    def replace_projection(self, spec: ProjectionSpec, rows: Iterable[dict[str, Any]],
                           checkpoint: int) -> None:
        self.changes.stop()  # every row replaced
        shadow_name = f"{spec.name}__rebuild"
        shadow = schema.projection_table(spec, name=shadow_name)
        shadow.drop(self.conn, checkfirst=True)
        shadow.create(self.conn)
        batches = iter(rows)
        while batch := list(islice(batches, 5000)):
            self.conn.execute(insert(shadow), batch)
        self.store.table(spec).drop(self.conn, checkfirst=True)
        self.store.sql_dialect.rename_table(self.conn, shadow_name, spec.name)
        self._write_checkpoint(spec, checkpoint)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Work undone alone if it raises (group commit: one command among others); what
        this transaction buffers or caches is put back as it was too. Driver errors come
        out as the library's own."""
        try:
            with self._savepoint():
                yield
        except (sa_exc.SQLAlchemyError, self.store.dbapi.Error) as exc:
            raise self.store.sql_dialect.translate(exc) from exc

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self.flush()
        book = self._checkpoints
        kept = (self._head, self._settled, self.appended, set(self._made))
        marked = None if book is None else (book, book.mark())
        remembered = self.changes.mark()
        self.cursor.execute("SAVEPOINT incident_command")
        try:
            yield
            self.flush()  # a taken version or a refused value shows up here, not later
        except BaseException:
            self.cursor.execute("ROLLBACK TO SAVEPOINT incident_command")
            self._head, self._settled, self.appended, self._made = kept
            self._unwritten, self._touched = [], {}
            if marked is None:
                self._checkpoints = None  # read after the mark: read again if asked
            else:
                marked[0].reset(marked[1])
            self.changes.reset(remembered)
            raise
        finally:
            self.cursor.execute("RELEASE SAVEPOINT incident_command")
