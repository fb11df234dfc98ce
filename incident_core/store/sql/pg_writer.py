"""PostgreSQL's write transaction in few round trips.

A dispatch used to make twelve round trips to the server (a pool pre-ping, BEGIN, the append
lock, the head, the checkpoints, the projection row, its upsert, the event, the stream, the
checkpoints, NOTIFY, COMMIT), each one waiting for the last. Here:

- the store keeps one write connection that its transactions take turns on (the append lock
  serialises them anyway): no pool checkout, no pre-ping;
- BEGIN, the append lock, the head and the checkpoints go in one round trip (a psycopg
  pipeline; the reads run after the lock is granted, each statement seeing what committed
  before it);
- a statement whose result nobody reads is not sent when it is executed: it waits in
  `DeferredCursor` and goes to the server in one pipeline with the next statement whose
  result is read, with the end of a savepoint (`flush`) or with COMMIT.

So a lone command costs three round trips (begin, the projection row, the writes with NOTIFY
and COMMIT) and a command of a group-commit batch three (its SAVEPOINT with its stream read,
its row, its writes; the savepoint's release goes with the next round trip). COMMIT is still
durable (`synchronous_commit` is not touched): it returns after the WAL flush. A transaction
the server has aborted (a failed statement whose error was swallowed) or whose savepoint
release failed is refused at COMMIT, never reported committed (`PgTransaction.commit`).

A deferred statement's error comes out when its round trip is made: at a read, at the end of
the savepoint that holds it (`flush` sends, so a batch-mate's failure stays in its savepoint)
or at COMMIT; a taken version is a `ConcurrencyError` wherever it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import pq
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy import exc as sa_exc

from incident_core.errors import StoreError
from incident_core.store.sql.checkpoint_writes import Checkpoints
from incident_core.store.sql.queries import (
    CHECKPOINTS,
    HEAD,
    NOTIFY_CHANNEL,
    PG_APPEND_LOCK,
    E,
)
from incident_core.store.sql.transaction_roles import SqlStoreTransaction

if TYPE_CHECKING:
    from incident_core.store.sql.core import SqlStoreCore

__all__ = ["DeferredCursor", "PgTransaction", "WriterLink"]

LOCK = select(func.pg_advisory_xact_lock(PG_APPEND_LOCK))
ANNOUNCE = select(func.pg_notify(NOTIFY_CHANNEL, bindparam("head")))
Queued = tuple[str, Any, bool]  # SQL, parameters, executemany?
IDLE = pq.TransactionStatus.IDLE
INERROR = pq.TransactionStatus.INERROR
# psycopg forgets the statements it prepared on the server when it sees a ROLLBACK (ROLLBACK
# TO SAVEPOINT too) and deallocates them; in a pipeline that DEALLOCATE can land after a
# statement it prepares again ("prepared statement does not exist"): such a statement goes
# alone, out of pipeline mode (a failed command's savepoint only, never the hot path).
_FORGETS_PREPARED = "ROLLBACK"
_RELEASE = "RELEASE SAVEPOINT"


class WriterLink:
    """The store's write connection, left in pipeline mode between round trips.

    A round trip ends with a Sync (`sync`), never with psycopg's pipeline exit, which sends
    a flush request after its Sync: a message the server reads after going idle, which
    switches off its `idle_in_transaction_session_timeout` for that idle spell (a frozen
    client would then hold the append lock for good). `leave` ends pipeline mode for
    statements sent through SQLAlchemy (the next statement then re-arms the timeout)."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self._pipeline: ExitStack | None = None
        self._syncing: psycopg.Pipeline | None = None

    def enter(self) -> None:
        if self._pipeline is None:
            stack = ExitStack()
            self._syncing = stack.enter_context(self.raw.pipeline())
            self._pipeline = stack

    def sync(self) -> None:
        """Send what the pipeline holds and wait for all of its results."""
        assert self._syncing is not None
        self._syncing.sync()

    def leave(self) -> None:
        """End pipeline mode, collecting what results are left (after an error: the
        statements it aborted). A connection that cannot get out of it is closed (the
        store's next transaction gets a fresh one)."""
        stack, self._pipeline, self._syncing = self._pipeline, None, None
        if stack is None:
            return
        with suppress(psycopg.Error):  # the aborted statements', or a lost connection's
            stack.close()
        if not self.raw.closed and self.raw.info.pipeline_status != pq.PipelineStatus.OFF:
            self.raw.close()


class DeferredCursor:
    """A DBAPI cursor whose statements are sent, pipelined, when a result is first read
    (the last statement's) or when `send` is called."""

    def __init__(self, link: WriterLink,
                 failed: Callable[[psycopg.Error], Exception]) -> None:
        self._link = link
        self._failed = failed  # a driver error as the exception to raise
        self._queue: list[Queued] = []
        # a round trip that carried a savepoint's release failed: whether the release was
        # made is unknown, so a later ROLLBACK TO SAVEPOINT could undo a batch-mate
        self.doubtful = False
        self._writes = link.raw.cursor()
        self._result = link.raw.cursor()

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    @property
    def pending_writes(self) -> bool:
        """Whether what is queued can fail: anything but a savepoint's release (which the
        next round trip may carry: the next command's SAVEPOINT, or COMMIT)."""
        return any(not query.startswith(_RELEASE) for query, _, _ in self._queue)

    def execute(self, query: str, params: Any = None) -> DeferredCursor:
        self._queue.append((query, params, False))
        return self

    def executemany(self, query: str, params_seq: Any) -> None:
        self._queue.append((query, list(params_seq), True))

    def send(self) -> None:
        """Send what is queued in one round trip; the last statement's result is this
        cursor's."""
        queue, self._queue = self._queue, []
        if not queue:
            return
        last = len(queue) - 1
        released: list[Any] = []  # the cursors of the savepoint releases it carries
        try:
            for n, (query, params, many) in enumerate(queue):
                cursor = self._result if n == last else self._writes
                if query.startswith(_FORGETS_PREPARED):
                    self._link.leave()  # sent alone: see _FORGETS_PREPARED
                    cursor.execute(query, params)
                    continue
                if query.startswith(_RELEASE):  # its own cursor: was it made? (`doubtful`)
                    cursor = self._link.raw.cursor()
                    released.append(cursor)
                self._link.enter()
                if many:
                    cursor.executemany(query, params)
                else:
                    cursor.execute(query, params)
            self._link.enter()
            self._link.sync()
        except psycopg.Error as exc:
            self._link.leave()  # a clean start for what follows (a ROLLBACK TO SAVEPOINT)
            if any(c.statusmessage != "RELEASE" for c in released):
                self.doubtful = True
            raise self._failed(exc) from exc

    def discard(self) -> None:
        """Forget what is queued (the transaction is rolled back)."""
        self._queue.clear()

    @property
    def status(self) -> str | None:
        """The server's status of the last statement sent (its command tag)."""
        return self._result.statusmessage

    @property
    def description(self) -> Any:
        self.send()
        return self._result.description

    def fetchone(self) -> Any:
        self.send()
        return self._result.fetchone()

    def fetchall(self) -> list[Any]:
        self.send()
        return self._result.fetchall()

    def __iter__(self) -> Iterator[Any]:
        self.send()
        return iter(self._result)

    def close(self) -> None:
        self._queue.clear()
        self._writes.close()
        self._result.close()


class PgTransaction(SqlStoreTransaction):
    """The SQL write transaction on a PostgreSQL store's write connection (see the module)."""

    def __init__(self, store: SqlStoreCore, conn: Connection, link: WriterLink) -> None:
        super().__init__(store, conn, link.raw)
        self._link = link
        self._deferred = DeferredCursor(link, self._failed)
        self._cursor = self._deferred
        self._in_flight: list[dict[str, Any]] = []  # event rows queued, not yet sent

    def begin(self) -> None:
        """BEGIN, the append lock, then the head and the checkpoints: one round trip."""
        store, raw = self.store, self._raw
        lock = store.prepared("pg_lock", LOCK)
        head = store.prepared("head", HEAD)
        checkpoints = store.prepared("checkpoints", CHECKPOINTS)
        with raw.cursor() as locked, raw.cursor() as heads, raw.cursor() as named:
            self._link.enter()
            locked.execute("BEGIN")  # the connection is in autocommit: see prepare_writer
            lock.run(locked)
            head.run(heads)
            checkpoints.run(named)
            self._link.sync()
            self._head = self._start = self._settled = int(heads.fetchone()[0])
            stored = {n: int(p) for n, p in named.fetchall()}
            self._checkpoints = Checkpoints(stored, self._head)  # FOLLOWS: at this head

    @property
    def conn(self) -> Connection:
        """SQLAlchemy's connection, once what is queued has been sent, out of pipeline
        mode."""
        self._deferred.send()
        self._link.leave()
        return super().conn

    def _write_events(self) -> None:
        if not self._deferred.pending:
            self._in_flight = []
        self._in_flight.extend(self._unwritten)
        super()._write_events()

    def flush(self) -> None:
        """Write what is buffered, and send it: its errors come out here. A savepoint's
        release alone waits for the next round trip."""
        super().flush()
        if self._deferred.pending_writes:
            self._deferred.send()

    def finish(self) -> None:
        """Queue the last writes and, if events were appended, the NOTIFY that tells other
        processes' watchers the head moved; COMMIT sends them."""
        super().flush()
        if self.appended:
            self.store.prepared("pg_announce", ANNOUNCE).run(self.cursor,
                                                             {"head": str(self.head())})

    def commit(self) -> None:
        """COMMIT, durable. Refused (nothing committed) for a transaction the server has
        aborted (a failed statement whose error nobody raised: the server would answer
        COMMIT with ROLLBACK) or one where a savepoint's release failed (`doubtful`)."""
        if self._deferred.doubtful:  # a batch-mate's savepoint may be undone: commit none
            raise StoreError("a savepoint's release failed in a shared transaction; "
                             "nothing of it was committed")
        if self._joined is not None:
            self._deferred.send()
            self._refuse_if_aborted(self._raw.info.transaction_status == INERROR)
            self._joined.commit()
        else:
            self._deferred.execute("COMMIT")
            self._deferred.send()
            self._refuse_if_aborted(self._deferred.status != "COMMIT")

    @staticmethod
    def _refuse_if_aborted(aborted: bool) -> None:
        if aborted:
            raise StoreError("the server had aborted the transaction: nothing of it was "
                             "committed")

    def rollback(self) -> None:
        """Roll back, out of pipeline mode; a connection left in an unknown state is closed
        (a lost one: the server rolled back), so the next transaction starts afresh."""
        self._deferred.discard()
        self._link.leave()
        with suppress(psycopg.Error, sa_exc.SQLAlchemyError):
            if self._joined is not None:
                self._joined.rollback()
            else:
                self._raw.rollback()
        if not self._raw.closed and self._raw.info.transaction_status != IDLE:
            self._raw.close()

    def _failed(self, exc: psycopg.Error) -> Exception:
        """A taken version or event id as `_conflict` says; other errors translated."""
        rows, self._in_flight = self._in_flight, []
        if isinstance(exc, psycopg.IntegrityError) and rows \
                and exc.diag.table_name == E.name:
            return self._conflict(rows, exc)
        return self.store.sql_dialect.translate(exc)
