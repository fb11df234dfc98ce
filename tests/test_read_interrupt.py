"""`EventStore.interrupt(thread)`: another thread stops a read's running statement (SQLite's
`interrupt()`, PostgreSQL's cancel request); the read fails with a StoreError, the store
goes on serving, and writes are never interrupted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text

from incident_core import Accepted, Application, StoreError
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.ports import EventStore

# Statements that run for minutes unless stopped: a count of a billion rows made up by a
# recursive CTE (SQLite), a sleep (PostgreSQL).
ENDLESS = {
    "sqlite": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
              "WHERE x < 1000000000) SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(300)",
}


class Reader(threading.Thread):
    """Runs `read` on its own thread, keeping how it ended."""

    def __init__(self, read: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self._read = read
        self.error: BaseException | None = None
        self.started_at = 0.0
        self.ended_at = 0.0

    def run(self) -> None:
        self.started_at = time.monotonic()
        try:
            self._read()
        except BaseException as exc:  # kept for the test to look at
            self.error = exc
        self.ended_at = time.monotonic()


def endless_read(store: EventStore) -> Callable[[], object]:
    statement = ENDLESS[store.dialect]

    def read() -> object:
        with store.reading() as conn:  # type: ignore[attr-defined]
            return conn.execute(text(statement)).scalar()
    return read


def stop(store: EventStore, reader: Reader) -> float:
    """Interrupt `reader`'s thread until it ends; the seconds that took."""
    asked = time.monotonic()
    while reader.is_alive() and time.monotonic() - asked < 30:
        store.interrupt(reader.ident)
        reader.join(0.05)
    assert not reader.is_alive(), "the read was never stopped"
    return reader.ended_at - asked


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres",
                                                         marks=pytest.mark.postgres)])
def test_interrupt_stops_a_long_read_and_the_store_goes_on(
        kind: str, request: pytest.FixtureRequest, tmp_path: object) -> None:
    target = (str(request.getfixturevalue("tmp_path") / "store.sqlite3") if kind == "sqlite"
              else str(request.getfixturevalue("pg_url")))
    from incident_core.examples.bank import domain

    with Application.open(target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        store = app.store
        reader = Reader(endless_read(store))
        reader.start()
        time.sleep(0.3)  # the statement is under way
        assert reader.is_alive()
        stop(store, reader)
        assert isinstance(reader.error, StoreError)
        # the store serves reads and writes as before, and nothing is left filed
        assert isinstance(app.dispatch(DepositMoney(aggregate_id="A", amount=5)), Accepted)
        assert app.store.head() == 2
        assert store.interrupt() == 0


def test_interrupt_reaches_only_the_thread_named(tmp_path: object,
                                                request: pytest.FixtureRequest) -> None:
    from incident_core.examples.bank import domain

    target = str(request.getfixturevalue("tmp_path") / "store.sqlite3")
    with Application.open(target, domain, create=True) as app:
        store = app.store
        first, second = Reader(endless_read(store)), Reader(endless_read(store))
        first.start()
        second.start()
        time.sleep(0.3)
        assert second.ident is not None and first.ident is not None
        stop(store, first)
        assert isinstance(first.error, StoreError)
        assert second.is_alive()  # not its thread: still reading
        stop(store, second)
        assert isinstance(second.error, StoreError)


def test_writes_are_never_interrupted(tmp_path: object,
                                      request: pytest.FixtureRequest) -> None:
    """Dispatches (their loads are reads of their own, their writes transactions) go on
    while another thread interrupts every read it can: only reads in flight can fail,
    and a dispatch whose load failed recorded nothing."""
    from incident_core.examples.bank import domain

    target = str(request.getfixturevalue("tmp_path") / "store.sqlite3")
    with Application.open(target, domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="A"))
        outcomes: list[object] = []

        def deposit() -> None:
            for _ in range(200):
                try:
                    outcomes.append(app.dispatch(DepositMoney(aggregate_id="A", amount=1)))
                except StoreError as exc:  # its load was interrupted: nothing recorded
                    outcomes.append(exc)

        writer = threading.Thread(target=deposit)
        writer.start()
        while writer.is_alive():
            app.store.interrupt()
        writer.join()
        accepted = sum(isinstance(o, Accepted) for o in outcomes)
        assert accepted + sum(isinstance(o, StoreError) for o in outcomes) == 200
        assert app.store.head() == 1 + accepted  # every accepted one, and only those
        assert app.state("A").state.balance == accepted  # type: ignore[attr-defined]


def test_the_memory_store_has_nothing_to_interrupt() -> None:
    from incident_core.examples.bank import domain

    with Application.open("memory:", domain, create=True) as app:
        assert app.store.interrupt() == 0
        assert app.store.interrupt(threading.get_ident()) == 0
