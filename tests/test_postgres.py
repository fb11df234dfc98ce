"""PostgreSQL specifics, against a real server: opening and refusing databases, read-only
sessions, live updates over LISTEN/NOTIFY, and migrating a store between SQLite and PostgreSQL.

The adapter contract suite, the bank and race tests run on PostgreSQL through the
`store_target` / `shared_target` fixtures; this file covers what only PostgreSQL has.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, insert, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from incident_core import Application, EventStore, open_store
from incident_core.errors import (
    NewerSchemaError,
    NotAStoreError,
    ReadOnlyError,
    StoreError,
    StoreNotFoundError,
)
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
    domain,
)
from incident_core.operations.verify import verify
from incident_core.progress import run_to_end
from incident_core.store.sql import schema
from incident_core.store.sql.meta import SCHEMA_VERSION
from incident_core.store.sql.postgres import PostgresEventStore
from incident_core.store.sql.queries import PG_APPEND_LOCK
from tests.pg_server import PostgresServer, to_libpq_url

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent


def sql(url: str, statement: str, *params: object) -> list[tuple[Any, ...]]:
    """Run one statement on the database behind `url` with plain psycopg (autocommit)."""
    with psycopg.connect(to_libpq_url(url), autocommit=True) as conn:
        cursor = conn.execute(statement.encode(), params or None)
        return cursor.fetchall() if cursor.description else []


def tables(url: str) -> set[str]:
    rows = sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r[0] for r in rows}


@pytest.fixture
def store_url(pg_url: str) -> str:
    """A PostgreSQL database holding an empty Incident store."""
    open_store(pg_url, create=True).close()
    return pg_url


@pytest.fixture
def bank_pg(pg_url: str) -> Iterator[Application]:
    app = Application.open(pg_url, domain, create=True)
    app.dispatch(OpenAccount(aggregate_id="A"))
    yield app
    app.close()


# -- opening and refusing -------------------------------------------------------------------
def test_a_postgresql_url_opens_the_postgresql_store(pg_url: str) -> None:
    with open_store(pg_url, create=True) as store:
        assert isinstance(store, PostgresEventStore)
        assert store.dialect == "postgresql"
        assert store.target == pg_url  # no password in this URL, so shown as given
    assert dict(sql(pg_url, "SELECT key, value FROM incident_meta")) == {
        "format": "incident-store", "schema_version": str(SCHEMA_VERSION)}


def test_an_empty_database_is_not_a_store_until_created(pg_url: str) -> None:
    with pytest.raises(StoreNotFoundError, match="incident init"):
        open_store(pg_url)
    with pytest.raises(StoreNotFoundError):
        open_store(pg_url, read_only=True)
    assert tables(pg_url) == set()


@pytest.mark.parametrize("create", [False, True])
def test_a_database_with_other_tables_is_refused_untouched(pg_url: str, create: bool) -> None:
    sql(pg_url, "CREATE TABLE customers (id int PRIMARY KEY, name text)")
    sql(pg_url, "INSERT INTO customers VALUES (1, 'Ada')")
    with pytest.raises(NotAStoreError, match=r"not an Incident store|other tables"):
        open_store(pg_url, create=create)
    assert tables(pg_url) == {"customers"}
    assert sql(pg_url, "SELECT id, name FROM customers") == [(1, "Ada")]


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_schema_is_refused_untouched(store_url: str, read_only: bool) -> None:
    sql(store_url, "UPDATE incident_meta SET value = %s WHERE key = 'schema_version'",
        str(SCHEMA_VERSION + 1))
    before = tables(store_url)
    with pytest.raises(NewerSchemaError, match="upgrade Incident"):
        Application.open(store_url, domain, read_only=read_only)
    assert tables(store_url) == before  # no projection tables were created


def test_concurrent_creators_all_open_the_same_store(pg_url: str) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def create() -> None:
        barrier.wait()
        try:
            Application.open(pg_url, domain, create=True).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sql(pg_url, "SELECT count(*) FROM incident_meta") == [(2,)]
    assert {"incident_events", "bank_accounts", "transfers"} <= tables(pg_url)


# -- errors users see -----------------------------------------------------------------------
def _one_line_store_error(target: str) -> str:
    with pytest.raises(StoreError) as caught:
        open_store(target)
    message = str(caught.value)
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_a_wrong_port_is_a_clear_store_error(pg_server: PostgresServer) -> None:
    url = make_url(pg_server.url).set(port=1)
    message = _one_line_store_error(url.render_as_string(hide_password=False))
    assert "connection" in message.lower() and "refused" in message.lower()


def test_an_unknown_host_is_a_clear_store_error() -> None:
    message = _one_line_store_error("postgresql+psycopg://someone@no-such-host.invalid/db")
    assert "no-such-host.invalid" in message


def test_an_unknown_database_is_a_clear_store_error(pg_server: PostgresServer) -> None:
    message = _one_line_store_error(pg_server.url_for("no_such_database"))
    assert 'database "no_such_database" does not exist' in message


@pytest.mark.parametrize("url", ["mysql://user@localhost/db", "postgresql+psycopg2://u@h/db"])
def test_unsupported_databases_and_drivers_are_refused(url: str) -> None:
    message = _one_line_store_error(url)
    assert "postgresql+psycopg://" in message


@pytest.mark.parametrize("url", ["postgresql+psycopg://ada:s3cret@host:port/db",
                                 "postgresql+psycopg://ada:s3cret@[::1/db"])
def test_a_malformed_url_is_a_clear_store_error_that_hides_the_password(url: str) -> None:
    message = _one_line_store_error(url)
    assert "not a valid database URL" in message and "s3cret" not in message
    assert "ada:***@" in message


@pytest.fixture
def password_user(pg_server: PostgresServer) -> Iterator[str]:
    """A role that must log in with the password 'right-secret' (scram), for this test."""
    role = "incident_pw_user"
    hba = pg_server.data_dir / "pg_hba.conf"
    original = hba.read_text()
    admin = pg_server.url_for("postgres")
    sql(admin, "CREATE ROLE incident_pw_user LOGIN PASSWORD 'right-secret'")
    # First matching line wins: put ours above the harness's `trust` lines.
    hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n{original}")
    try:
        sql(admin, "SELECT pg_reload_conf()")
        _wait_until_password_is_required(pg_server, role)
        yield role
    finally:
        hba.write_text(original)
        sql(admin, "SELECT pg_reload_conf()")
        sql(admin, "DROP ROLE IF EXISTS incident_pw_user")


def _wait_until_password_is_required(pg_server: PostgresServer, role: str) -> None:
    conninfo = f"host=127.0.0.1 port={pg_server.port} dbname=postgres user={role} password=x"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(conninfo).close()
        except psycopg.OperationalError:
            return
        time.sleep(0.05)  # the postmaster reloads pg_hba.conf asynchronously
    pytest.fail("pg_hba.conf reload did not take effect")


def test_a_wrong_password_is_a_clear_store_error_that_hides_it(
        pg_server: PostgresServer, pg_url: str, password_user: str) -> None:
    url = make_url(pg_url).set(username=password_user)
    wrong = url.set(password="wrong-secret").render_as_string(hide_password=False)
    message = _one_line_store_error(wrong)
    assert "password authentication failed" in message and "wrong-secret" not in message
    right = url.set(password="right-secret").render_as_string(hide_password=False)
    with pytest.raises(StoreNotFoundError) as caught:  # authenticated: the database is empty
        open_store(right)
    assert "right-secret" not in str(caught.value)


# -- read-only ------------------------------------------------------------------------------
def test_a_read_only_store_refuses_writes_in_the_database(bank_pg: Application) -> None:
    url = bank_pg.store.target
    with Application.open(url, domain, read_only=True) as reader:
        assert reader.state("A") is not None
        with pytest.raises(ReadOnlyError):
            reader.dispatch(DepositMoney(aggregate_id="A", amount=1))
        store = reader.store
        assert isinstance(store, PostgresEventStore)
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW transaction_read_only")).scalar() == "on"
            assert conn.execute(text("SHOW default_transaction_read_only")).scalar() == "on"
            with pytest.raises(sa_exc.DBAPIError) as caught:
                conn.execute(insert(schema.meta), {"key": "k", "value": "v"})
            assert isinstance(caught.value.orig, psycopg.errors.ReadOnlySqlTransaction)
            conn.rollback()
            # Even outside SQLAlchemy's read-only transaction the session default holds.
            conn.exec_driver_sql("COMMIT")
            with pytest.raises(sa_exc.DBAPIError) as caught:
                conn.exec_driver_sql("CREATE TABLE sneaky (id int)")
            assert isinstance(caught.value.orig, psycopg.errors.ReadOnlySqlTransaction)
    assert "sneaky" not in tables(url)
    assert sql(url, "SELECT count(*) FROM incident_meta WHERE key = 'k'") == [(0,)]


def test_user_options_are_kept_beside_the_read_only_default(store_url: str) -> None:
    url = make_url(store_url).update_query_dict({"options": "-c statement_timeout=4321"})
    with open_store(url.render_as_string(hide_password=False), read_only=True) as store:
        assert isinstance(store, PostgresEventStore)
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "4321ms"
            assert conn.execute(text("SHOW default_transaction_read_only")).scalar() == "on"


# -- a stuck writer cannot block the others forever ------------------------------------------
def _with_options(url: str, options: str) -> str:
    return make_url(url).update_query_dict({"options": options}).render_as_string(
        hide_password=False)


def test_sessions_get_lock_and_idle_timeouts(store_url: str) -> None:
    with open_store(store_url) as store:
        assert isinstance(store, PostgresEventStore)
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "30s"
            assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() \
                == "1min"


def test_a_writer_waiting_too_long_for_the_append_lock_gets_a_clear_error(
        bank_pg: Application) -> None:
    url = _with_options(bank_pg.store.target, "-c lock_timeout=300ms")
    with Application.open(url, domain) as impatient, \
            psycopg.connect(to_libpq_url(bank_pg.store.target)) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (PG_APPEND_LOCK,))
        started = time.monotonic()
        with pytest.raises(StoreError, match="lock timeout"):
            impatient.dispatch(DepositMoney(aggregate_id="A", amount=1))
        assert time.monotonic() - started < 10
        holder.rollback()
        assert impatient.dispatch(DepositMoney(aggregate_id="A", amount=1)).ok


def test_a_writer_stuck_inside_its_transaction_loses_the_append_lock(
        bank_pg: Application) -> None:
    url = _with_options(bank_pg.store.target, "-c idle_in_transaction_session_timeout=300ms")
    with open_store(url) as stuck:
        with pytest.raises(StoreError, match=r"idle-in-transaction|closed|connection is lost"), \
                stuck.transaction() as tx:
            tx.head()  # holds the append lock from here on
            time.sleep(1.0)  # a frozen client: the server ends the session
            tx.read_stream("A")
        # Meanwhile the lock was released: others write; and this store recovers too.
        assert bank_pg.dispatch(DepositMoney(aggregate_id="A", amount=1)).ok
        with stuck.transaction() as tx:
            assert tx.head() == bank_pg.store.head()


# -- live updates ---------------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys, time
    from incident_core import Application
    from incident_core.examples.bank import DepositMoney, domain
    app = Application.open(sys.argv[1], domain)
    time.sleep(float(sys.argv[2]))
    result = app.dispatch(DepositMoney(aggregate_id="A", amount=7))
    committed = time.time()
    app.close()
    print(result.ok, committed)
""")


def test_wait_for_change_wakes_soon_after_another_process_commits(
        bank_pg: Application) -> None:
    url = bank_pg.store.target
    with open_store(url, read_only=True) as follower:
        known = follower.head()
        writer = subprocess.Popen([sys.executable, "-c", WRITER, url, "1.0"], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        head = follower.wait_for_change(known, timeout=60)
        woke = time.time()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    ok, committed = out.split()
    assert ok == "True" and head == known + 1
    # Woken by the notification, far from the 60 s timeout (typically a few milliseconds).
    assert woke - float(committed) < 5.0


def _count_head_queries(store: EventStore) -> list[str]:
    assert isinstance(store, PostgresEventStore)
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "incident_events" in statement:
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    return seen


def test_waiting_does_not_poll_the_table(bank_pg: Application) -> None:
    with open_store(bank_pg.store.target) as follower:
        known = follower.head()
        queries = _count_head_queries(follower)
        started = time.monotonic()
        assert follower.wait_for_change(known, timeout=1.5) == known
        assert time.monotonic() - started >= 1.4
        assert len(queries) == 1  # the head at the start; then only sleeping on LISTEN


def test_a_follower_waiting_in_short_slices_queries_only_once(bank_pg: Application) -> None:
    with open_store(bank_pg.store.target) as follower:
        known = follower.head()
        queries = _count_head_queries(follower)
        for _ in range(6):  # like the inspector's watcher: short waits in a loop
            assert follower.wait_for_change(known, timeout=0.1) == known
        assert len(queries) == 1
        bank_pg.dispatch(DepositMoney(aggregate_id="A", amount=1))
        assert follower.wait_for_change(known, timeout=30) == known + 1
        assert follower.wait_for_change(known + 1, timeout=0.1) == known + 1
        assert len(queries) == 2  # once after the notification; the next call needs none


def test_a_wake_up_costs_one_head_query(bank_pg: Application) -> None:
    with open_store(bank_pg.store.target) as follower:
        known = follower.head()
        queries = _count_head_queries(follower)
        timer = threading.Timer(0.5, bank_pg.dispatch, [DepositMoney(aggregate_id="A",
                                                                     amount=1)])
        timer.start()
        assert follower.wait_for_change(known, timeout=30) == known + 1
        timer.join()
        assert len(queries) == 2


def test_notifications_that_do_not_move_the_head_keep_waiting(bank_pg: Application) -> None:
    url = bank_pg.store.target
    with open_store(url) as follower:
        known = follower.head()
        queries = _count_head_queries(follower)
        timer = threading.Timer(0.3, sql, [url, "SELECT pg_notify('incident_events', 'x')"])
        timer.start()
        started = time.monotonic()
        assert follower.wait_for_change(known, timeout=1.5) == known
        timer.join()
        assert time.monotonic() - started >= 1.4
        assert len(queries) == 2  # the start, and once after the (empty) wake-up


def test_a_changed_head_returns_at_once(bank_pg: Application) -> None:
    with open_store(bank_pg.store.target, read_only=True) as follower:
        started = time.monotonic()
        assert follower.wait_for_change(0, timeout=30) == bank_pg.store.head()
        assert time.monotonic() - started < 5


def test_one_commit_wakes_every_waiting_thread(bank_pg: Application) -> None:
    with open_store(bank_pg.store.target, read_only=True) as follower:
        known = follower.head()
        heads: list[int] = []
        waiters = [threading.Thread(target=lambda: heads.append(
            follower.wait_for_change(known, timeout=30))) for _ in range(3)]
        for waiter in waiters:
            waiter.start()
        time.sleep(0.3)
        bank_pg.dispatch(DepositMoney(aggregate_id="A", amount=1))
        for waiter in waiters:
            waiter.join(30)
        assert heads == [known + 1] * 3


def test_closing_the_store_releases_a_waiter(bank_pg: Application) -> None:
    follower = open_store(bank_pg.store.target, read_only=True)
    known = follower.head()
    result: list[int] = []
    waiter = threading.Thread(target=lambda: result.append(follower.wait_for_change(known, 60)))
    waiter.start()
    time.sleep(0.3)
    started = time.monotonic()
    follower.close()
    waiter.join(10)
    assert result == [known] and time.monotonic() - started < 5


def test_a_lost_listener_connection_is_reported_then_reopened(bank_pg: Application) -> None:
    url = bank_pg.store.target
    with open_store(url, read_only=True) as follower:
        known = follower.head()
        errors: list[BaseException] = []

        def wait() -> None:
            try:
                follower.wait_for_change(known, timeout=30)
            except StoreError as exc:
                errors.append(exc)

        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.3)
        killed = sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        waiter.join(30)
        assert killed == [(True,)]
        assert len(errors) == 1 and "lost the change notifications" in str(errors[0])
        timer = threading.Timer(0.3, bank_pg.dispatch, [DepositMoney(aggregate_id="A",
                                                                     amount=1)])
        timer.start()
        assert follower.wait_for_change(known, timeout=30) == known + 1
        timer.join()


# -- kill -9 -------------------------------------------------------------------------------
SEEDER = textwrap.dedent("""
    import sys
    from incident_core import Application
    from incident_core.examples.bank import domain
    from incident_core.operations.demo import demo
    from incident_core.progress import run_to_end
    with Application.open(sys.argv[1], domain) as app:
        run_to_end(demo(app, accounts=40, transfers=200_000, seed=int(sys.argv[2]),
                        batch_size=50))
""")
UNFINISHED = "SELECT count(*) FROM transfers WHERE status IN ('requested', 'initiated', 'reverted')"


def _verified(url: str) -> None:
    with Application.open(url, domain, read_only=True) as app:
        report = run_to_end(verify(app))
    assert report.ok, report.to_json()


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_of_a_writer_leaves_a_store_that_verifies_and_unlocked(pg_url: str) -> None:
    open_store(pg_url, create=True).close()
    rng = random.Random(20240502)
    interrupted = []
    with open_store(pg_url, read_only=True) as watcher:
        for round_ in range(4):
            before = watcher.head()
            seeder = subprocess.Popen([sys.executable, "-c", SEEDER, pg_url, str(round_)],
                                      cwd=ROOT, stderr=subprocess.PIPE, text=True)
            try:
                _wait_for(lambda b=before, p=seeder: watcher.head() > b or p.poll() is not None,
                          "the seeder never wrote")
                assert seeder.poll() is None, seeder.communicate()[1]
                time.sleep(rng.uniform(0.2, 1.2))
            finally:
                seeder.send_signal(signal.SIGKILL)
                seeder.communicate(timeout=30)
            assert seeder.returncode == -signal.SIGKILL
            # The server ends the dead client's session: its transaction rolls back and the
            # append lock is free again at once (not after a timeout).
            _wait_for(lambda: not sql(pg_url, "SELECT 1 FROM pg_locks "
                                              "WHERE locktype = 'advisory' AND granted"),
                      "the append lock outlived its client", seconds=10)
            _verified(pg_url)
            interrupted.append(sql(pg_url, UNFINISHED)[0][0])
            with Application.open(pg_url, domain) as app:  # the next writer finishes sagas
                assert app.dispatch(OpenAccount(aggregate_id=f"after-kill-{round_}")).ok
            assert sql(pg_url, UNFINISHED) == [(0,)]
            _verified(pg_url)
    print("unfinished transfers after each kill:", interrupted)
    assert any(interrupted), "no kill landed inside a saga: the test proved little"


# -- migration between SQLite and PostgreSQL -------------------------------------------------
def _history(app: Application) -> None:
    for name in "ABCD":
        app.dispatch(OpenAccount(aggregate_id=name))
        app.dispatch(DepositMoney(aggregate_id=name, amount=100))
    app.dispatch(WithdrawMoney(aggregate_id="A", amount=30))
    app.dispatch(WithdrawMoney(aggregate_id="B", amount=500))  # rejected: not recorded
    app.dispatch(RequestTransfer(aggregate_id="T1", source_account_number="A",
                                 destination_account_number="B", amount=20))
    app.dispatch(RequestTransfer(aggregate_id="T2", source_account_number="C",
                                 destination_account_number="D", amount=1000))  # cancelled
    app.dispatch(RequestTransfer(aggregate_id="T3", source_account_number="D",
                                 destination_account_number="nobody", amount=5))  # reverted
    app.dispatch(DepositMoney(aggregate_id="C", amount=1))
    app.dispatch_data("DepositMoney", {"aggregate_id": "D", "amount": 3},
                      metadata={"correlation_id": "külön-ügy"})


def snapshot(app: Application) -> dict[str, Any]:
    """Everything a store holds, as plain data."""
    store = app.store
    return {
        "events": [e.to_json() for batch in store.iter_events(batch_size=7) for e in batch],
        "streams": [s.to_json() | {"last_position": s.last_position} for s in store.streams()],
        "rows": {name: store.projection_rows(p.spec) for name, p in domain.projections.items()},
        "checkpoints": store.checkpoints(),
    }


def export(app: Application) -> list[dict[str, Any]]:
    return [e.to_json() for batch in app.store.iter_events() for e in batch]


def test_sqlite_to_postgresql_and_back_keeps_every_event_and_row(
        tmp_path: Path, pg_url: str) -> None:
    with Application.open(str(tmp_path / "first.sqlite3"), domain, create=True) as first:
        _history(first)
        original = snapshot(first)
        envelopes = export(first)
    assert len(original["events"]) > 20 and original["rows"]["transfers"]
    with Application.open(pg_url, domain, create=True) as server:
        server.import_events(envelopes)
        assert snapshot(server) == original
        back = export(server)
    with Application.open(str(tmp_path / "back.sqlite3"), domain, create=True) as again:
        again.import_events(back)
        assert snapshot(again) == original


def incident(*args: str) -> str:
    """Run the `incident` command line (a separate process, as a user would)."""
    done = subprocess.run([sys.executable, "-m", "incident_core.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_command_line_moves_a_store_to_postgresql_and_back(
        tmp_path: Path, pg_url: str) -> None:
    first, back = str(tmp_path / "first.sqlite3"), str(tmp_path / "back.sqlite3")
    with Application.open(first, domain, create=True) as app:
        _history(app)
        original = snapshot(app)
    incident("export", str(tmp_path / "first.ndjson"), "--db", first)
    incident("init", "--db", pg_url)
    incident("import", str(tmp_path / "first.ndjson"), "--db", pg_url)
    assert '"mismatch_count": 0' in incident("verify", "--db", pg_url)
    incident("export", str(tmp_path / "server.ndjson"), "--db", pg_url)
    incident("import", str(tmp_path / "server.ndjson"), "--db", back)
    for target in (pg_url, back):
        with Application.open(target, domain, read_only=True) as app:
            assert snapshot(app) == original
    assert (tmp_path / "server.ndjson").read_text() == (tmp_path / "first.ndjson").read_text()
