"""The contract of a closed store: after `close()` every read and write of the store port
raises `StoreError` "the store is closed" (nothing is accepted that the store could not
give back, and nothing is opened again), a transaction under way is refused, a replay begun
before the close refuses its next page, and a second close is harmless. `interrupt` is the
one method that answers: a closed store runs no read, so it stops none (0).

`PORT_CALLS` calls every public method of the port as a user would; `refusals(store,
calls)` says what each call did instead of refusing (nothing: it refused)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from incident_core.errors import StoreError
from incident_core.ports import EventStore, StoredSnapshot
from incident_core.ports.sorting import SortKey
from incident_core.testing.factory import SPEC, ContractBase, StoreFactory, append, pending

__all__ = ["CLOSED", "PORT_CALLS", "ClosedContract", "refusals", "seed"]

CLOSED = "the store is closed"
ANSWERS_WHEN_CLOSED = {"close", "interrupt"}  # a second close; no read to stop


def _transaction(store: EventStore) -> None:
    with store.transaction() as tx:
        tx.append([pending("a", 4)])


# Every public method of the store port, called as a user would (those above aside).
PORT_CALLS: dict[str, Callable[[EventStore], Any]] = {
    "transaction": _transaction,
    "meta": lambda s: s.meta(),
    "add_meta": lambda s: s.add_meta({"note": "after close"}),
    "head": lambda s: s.head(),
    "read_events": lambda s: s.read_events(),
    "iter_events": lambda s: list(s.iter_events()),
    "iter_undecoded_events": lambda s: list(s.iter_undecoded_events()),
    "read_stream": lambda s: s.read_stream("a"),
    "read_stream_rows": lambda s: s.read_stream_rows("a"),
    "get_event": lambda s: s.get_event("00000000-0000-0000-0000-000000000000"),
    "events_with_metadata": lambda s: s.events_with_metadata("correlation_id", "corr"),
    "wait_for_change": lambda s: s.wait_for_change(0, 0.05),
    "event_count": lambda s: s.event_count(),
    "streams": lambda s: s.streams(),
    "stream_count": lambda s: s.stream_count(),
    "stream": lambda s: s.stream("a"),
    "aggregate_types": lambda s: s.aggregate_types(),
    "event_types": lambda s: s.event_types(),
    "event_histogram": lambda s: s.event_histogram(),
    "read_events_sorted": lambda s: s.read_events_sorted(SortKey("event_type")),
    "streams_sorted": lambda s: s.streams_sorted(SortKey("aggregate_id")),
    "projection_rows_sorted": lambda s: s.projection_rows_sorted(SPEC, SortKey("count")),
    "lineage_events": lambda s: s.lineage_events("things", "a"),
    "lineage_start": lambda s: s.lineage_start("things"),
    "projection_rows": lambda s: s.projection_rows(SPEC),
    "projection_row_count": lambda s: s.projection_row_count(SPEC),
    "checkpoints": lambda s: s.checkpoints(),
    "projection_signatures": lambda s: s.projection_signatures(),
    "parked_steps": lambda s: s.parked_steps(include_skipped=True),
    "saga_outcomes": lambda s: s.saga_outcomes(correlation_id="corr"),
    "latest_snapshot": lambda s: s.latest_snapshot("a", "Thing", "f"),
    "snapshot_versions": lambda s: s.snapshot_versions(["a"]),
}


def seed(store: EventStore) -> EventStore:
    """Events, a projection row, a snapshot: every read of the store has something to find."""
    append(store, pending("a", 1), pending("a", 2), pending("b", 1))
    with store.transaction() as tx:
        tx.ensure_projection(SPEC)
        tx.put_row(SPEC, {"aggregate_id": "a", "count": 2, "label": None, "ratio": None,
                          "flag": None})
        tx.save_snapshot(StoredSnapshot("a", "Thing", 2, "f", '{"n": 2}', "2026-01-01"))
    return store


def refusals(store: EventStore, calls: dict[str, Callable[[EventStore], Any]]) -> dict[str, str]:
    """What each call did instead of raising "the store is closed" (nothing: it did)."""
    wrong: dict[str, str] = {}
    for name, call in calls.items():
        try:
            result = call(store)
        except StoreError as exc:
            if CLOSED not in str(exc):
                wrong[name] = f"StoreError {exc}"
        except Exception as exc:  # reported by name, with its type
            wrong[name] = f"{type(exc).__name__}: {exc}"
        else:
            wrong[name] = f"returned {result!r}"
    return wrong


class ClosedContract(ContractBase):
    """Checks of a store after `close()`."""

    def test_every_public_method_of_the_port_is_checked(self) -> None:
        public = {name for name, _ in inspect.getmembers(EventStore, callable)
                  if not name.startswith("_")}
        assert public - ANSWERS_WHEN_CLOSED == set(PORT_CALLS)

    @pytest.fixture
    def closed(self, store_factory: StoreFactory) -> Iterator[EventStore]:
        """A seeded store of the adapter under test, closed."""
        store = seed(store_factory.create())
        assert store.head() == 3 and store.latest_snapshot("a", "Thing", "f") is not None
        store.close()
        yield store
        store.close()

    def test_every_read_and_write_after_close_refuses(self, closed: EventStore) -> None:
        assert refusals(closed, PORT_CALLS) == {}
        assert refusals(closed, PORT_CALLS) == {}  # and again: nothing reopened meanwhile
        assert closed.interrupt() == 0
        closed.close()  # a second close is harmless
        assert refusals(closed, {"head": PORT_CALLS["head"]}) == {}

    def test_a_replay_begun_before_close_refuses_its_next_page(
            self, store_factory: StoreFactory) -> None:
        store = seed(store_factory.create())
        pages = store.iter_events(batch_size=1)
        assert len(next(pages)) == 1
        store.close()
        with pytest.raises(StoreError, match="closed"):
            next(pages)

    def test_a_transaction_under_way_at_close_is_refused(
            self, store_factory: StoreFactory) -> None:
        store = seed(store_factory.create())
        with pytest.raises(StoreError, match="closed"), store.transaction() as tx:
            tx.append([pending("c", 1)])
            store.close()
