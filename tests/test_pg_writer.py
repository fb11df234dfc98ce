"""PostgreSQL's write path (`store/sql/pg_writer.py`): one kept write connection in pipeline
mode, statements deferred to the next round trip. What another connection commits is seen;
a lost write connection is replaced without losing or doubling a command; a writer process
killed mid-batch loses no acknowledged command; the log stays what a replay gives."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest

from incident_core import Application, open_store
from incident_core.errors import ConcurrencyError, IncidentError, StoreError
from incident_core.examples.bank import DepositMoney, OpenAccount, domain
from incident_core.operations import verify
from incident_core.progress import run_to_end
from incident_core.store.sql.postgres import PostgresEventStore
from incident_core.testing.factory import append, pending
from tests import group_commit_domain as g
from tests.killed_writer import acknowledged_then_killed
from tests.pg_server import to_libpq_url

pytestmark = pytest.mark.postgres


def _writer_pid(app: Application) -> int:
    """The server process of the store's kept write connection."""
    store = app.store
    assert isinstance(store, PostgresEventStore)
    with store.transaction() as tx:
        return int(tx.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _balance(app: Application, account: str) -> int:
    state = app.state(account)
    assert state is not None
    return int(state.state.balance)


def test_what_another_connection_commits_is_seen_and_live_equals_replay(pg_url: str) -> None:
    with Application.open(pg_url, domain, create=True) as mine, \
            Application.open(pg_url, domain) as theirs:
        assert mine.dispatch(OpenAccount(aggregate_id="A")).ok
        assert mine.dispatch(DepositMoney(aggregate_id="A", amount=5)).ok
        assert theirs.dispatch(DepositMoney(aggregate_id="A", amount=7)).ok
        # Mine decides on its cached state (version 2): its deferred insert meets the taken
        # version 3 at COMMIT, a conflict; the retry reads theirs and records version 4.
        assert mine.dispatch(DepositMoney(aggregate_id="A", amount=1)).ok
        assert [e.version for e in mine.store.read_stream("A")] == [1, 2, 3, 4]
        assert _balance(mine, "A") == _balance(theirs, "A") == 13
        assert mine.store.projection_rows(domain.projections["bank_accounts"].spec) == \
            theirs.store.projection_rows(domain.projections["bank_accounts"].spec)
        assert run_to_end(verify(mine)).ok


def test_failed_savepoints_between_prepared_statements_leave_them_usable(pg_url: str) -> None:
    """Failed savepoints again and again in one transaction, between statements run often
    enough for psycopg to prepare them on the server (a ROLLBACK TO SAVEPOINT makes it
    deallocate them; the store contract's savepoint test is the one that caught it)."""
    with open_store(pg_url, create=True) as store:
        append(store, pending("a", 1))
        for round_ in range(3):
            with store.transaction() as tx:
                for n in range(8):
                    with pytest.raises(ConcurrencyError), tx.savepoint():
                        tx.append([pending(f"x{round_}-{n}", 1), pending("a", 1)])
                    with tx.savepoint():
                        tx.append([pending(f"ok{round_}-{n}", 1)])
        assert store.head() == 1 + 3 * 8
        assert {e.aggregate_id for e in store.read_events()} == \
            {"a"} | {f"ok{r}-{n}" for r in range(3) for n in range(8)}


def test_a_lost_write_connection_is_replaced_without_losing_a_command(
        pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with Application.open(pg_url, domain, create=True) as app:
        assert app.dispatch(OpenAccount(aggregate_id="A")).ok
        lost = _writer_pid(app)
        with psycopg.connect(to_libpq_url(pg_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (lost,))
        time.sleep(0.2)
        with caplog.at_level(logging.WARNING):
            assert app.dispatch(DepositMoney(aggregate_id="A", amount=3)).ok
        assert _writer_pid(app) != lost
        assert [r.getMessage() for r in caplog.records] == []
        assert [e.version for e in app.store.read_stream("A")] == [1, 2]
        assert _balance(app, "A") == 3
        assert run_to_end(verify(app)).ok


def test_a_write_connection_lost_inside_a_transaction_writes_nothing(pg_url: str) -> None:
    with Application.open(pg_url, domain, create=True) as app:
        assert app.dispatch(OpenAccount(aggregate_id="A")).ok
        lost = _writer_pid(app)
        store = app.store
        with pytest.raises(StoreError), store.transaction() as tx:
            tx.head()  # begun: holds the append lock
            with psycopg.connect(to_libpq_url(pg_url), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (lost,))
            tx.read_stream("A")
        assert store.head() == 1
        assert app.dispatch(DepositMoney(aggregate_id="A", amount=2)).ok  # a fresh connection
        assert run_to_end(verify(app)).ok


def test_threads_share_commits_and_a_failing_batch_mate_stays_alone(pg_url: str) -> None:
    """Each thread's deposits, with every fifth command refused by the domain and every
    seventh raising in the projection (its deferred writes rolled back in its savepoint)."""
    with Application.open(pg_url, g.domain, create=True) as app:
        outcomes: list[tuple[int, int, bool]] = []
        lock = threading.Lock()

        def work(thread: int) -> None:
            for i in range(1, 25):
                n = -1 if i % 5 == 0 else 13 if i % 7 == 0 else 1
                try:
                    ok = app.dispatch(g.Put(aggregate_id=f"box-{thread % 3}", n=n)).ok
                except IncidentError:  # the projection's error, as the library's
                    ok = False
                with lock:
                    outcomes.append((thread, n, ok))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        grouped = app.group_commit
        assert grouped is not None and grouped.writes > grouped.batches
        assert all(ok == (n == 1) for _, n, ok in outcomes)
        accepted = sum(ok for _, _, ok in outcomes)
        assert app.store.head() == accepted
        totals = {row["aggregate_id"]: row["total"]
                  for row in app.store.projection_rows(g.boxes.spec)}
        assert sum(totals.values()) == accepted
        assert run_to_end(verify(app)).ok


def test_kill_9_of_a_writer_mid_batch_loses_no_acknowledged_command(pg_url: str) -> None:
    Application.open(pg_url, g.domain, create=True).close()
    acked = acknowledged_then_killed(pg_url, at_least=80, seconds=120)
    assert len(acked) >= 80
    with Application.open(pg_url, g.domain) as app:  # the killed session's lock is gone
        for key, count in acked:
            assert len(app.store.events_with_metadata("causation_id", key)) == count
        assert app.dispatch(g.Put(aggregate_id="after", n=1)).ok
        assert run_to_end(verify(app)).ok
    with open_store(pg_url, read_only=True) as store:
        assert store.head() == store.event_count()


def test_a_transaction_the_server_aborted_is_never_reported_committed(pg_url: str) -> None:
    """A failed statement whose error was swallowed leaves the transaction aborted: the
    server answers COMMIT with ROLLBACK. The store says so instead of committing nothing
    silently; so does a failed savepoint release (which a batch-mate's could have been)."""
    with open_store(pg_url, create=True) as store:
        with pytest.raises(StoreError, match="aborted the transaction"), \
                store.transaction() as tx, pytest.raises(StoreError):
            tx.cursor.execute("SELECT 1 / 0")
            tx.cursor.fetchone()
        with pytest.raises(StoreError, match="release"), store.transaction() as tx:
            with tx.savepoint():
                tx.append([pending("lost", 1)])
            tx.cursor.execute("RELEASE SAVEPOINT incident_missing")
            with pytest.raises(StoreError):
                tx.read_stream("lost")
        append(store, pending("kept", 1))  # the write connection is usable again
        assert [e.aggregate_id for e in store.read_events()] == ["kept"]
