"""The SQLite store's write transaction (`SqlEventStore.transaction`, a class-based context
manager on the single writer) and `write_guard`: an error in the body rolls everything back
and comes out as it was (a driver's as the library's own), a BEGIN that cannot get the lock
leaves the writer free for the next transaction, and the writer's memory never outlives a
rollback."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from incident_core import Application
from incident_core.engine.parking import write_guard
from incident_core.envelope import PendingEvent, now_text
from incident_core.errors import ConcurrencyError, StoreError
from incident_core.examples.bank import DepositMoney, OpenAccount, domain
from incident_core.ids import new_id
from incident_core.store.sql.lock_wait import lock_timeout, set_lock_timeout
from incident_core.store.sql.transaction import SqlTransaction


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Application]:
    with Application.open(str(tmp_path / "store.sqlite3"), domain, create=True) as opened:
        assert opened.dispatch(OpenAccount(aggregate_id="a")).ok
        yield opened


def pending(version: int) -> PendingEvent:
    return PendingEvent(new_id(), "a", "Account", "MoneyDeposited", version, now_text(),
                        '{"amount":5}', "{}", 1, None, None)


class Boom(Exception):
    pass


def test_an_error_in_the_body_comes_out_as_it_is_and_nothing_is_written(
        app: Application) -> None:
    head = app.store.head()
    error = Boom("domain trouble")
    with pytest.raises(Boom) as raised, app.store.transaction() as tx:
        tx.append([pending(2)])
        tx.flush()  # written to the database, then rolled back
        raise error
    assert raised.value is error and raised.value.__cause__ is None
    assert app.store.head() == head
    assert app.dispatch(DepositMoney(aggregate_id="a", amount=1)).ok  # the writer is free
    assert [e.version for e in app.store.read_stream("a")] == [1, 2]
    state = app.state("a")
    assert state is not None and state.state.balance == 1  # type: ignore[attr-defined]


def test_a_driver_error_in_the_body_is_the_librarys_own_and_rolled_back(
        app: Application) -> None:
    head = app.store.head()
    with pytest.raises(StoreError) as raised, app.store.transaction() as tx:
        assert isinstance(tx, SqlTransaction)
        tx.append([pending(2)])
        tx.flush()
        tx.cursor.execute("INSERT INTO no_such_table VALUES (1)")  # the driver raises
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    assert app.store.head() == head
    assert app.dispatch(DepositMoney(aggregate_id="a", amount=2)).ok
    assert [e.version for e in app.store.read_stream("a")] == [1, 2]


def test_a_version_conflict_at_the_commit_is_a_concurrency_error(app: Application) -> None:
    head = app.store.head()
    with pytest.raises(ConcurrencyError), app.store.transaction() as tx:
        tx.append([pending(1)])  # version 1 is taken: found when written, at the commit
    assert app.store.head() == head
    assert app.dispatch(DepositMoney(aggregate_id="a", amount=2)).ok


def test_a_begin_that_cannot_get_the_lock_leaves_the_writer_free(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    before = lock_timeout()
    set_lock_timeout(0.2)
    try:
        with Application.open(str(path), domain, create=True) as app:
            assert app.dispatch(OpenAccount(aggregate_id="a")).ok
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another process's write lock
            try:
                with pytest.raises(StoreError):
                    app.dispatch(DepositMoney(aggregate_id="a", amount=3))
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert app.dispatch(DepositMoney(aggregate_id="a", amount=4)).ok
            events = app.store.read_stream("a")
            assert [e.version for e in events] == [1, 2] and events[1].data == {"amount": 4}
            state = app.state("a")
            assert state is not None and state.state.balance == 4  # type: ignore[attr-defined]
    finally:
        set_lock_timeout(before)


def test_write_guard_makes_a_foreign_error_a_store_error() -> None:
    cause = ValueError("cannot bind\n this value")
    with pytest.raises(StoreError, match=r"refused the write \(ValueError: cannot bind this "
                                         r"value\); nothing was written") as raised, \
            write_guard():
        raise cause
    assert raised.value.__cause__ is cause


def test_write_guard_lets_the_librarys_own_errors_and_interrupts_through() -> None:
    own = StoreError("already the library's")
    with pytest.raises(StoreError) as raised, write_guard():
        raise own
    assert raised.value is own
    with pytest.raises(KeyboardInterrupt), write_guard():
        raise KeyboardInterrupt
    with write_guard():
        value = 1
    assert value == 1
