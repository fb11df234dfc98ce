"""The event log's contract: appends, conflicts, rollback, reads of the log and of
streams, metadata lookups, waiting for a commit, read-only stores."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest

from incident_core.errors import ConcurrencyError, ReadOnlyError
from incident_core.ports import EventFilter, EventStore
from incident_core.testing.factory import ContractBase, StoreFactory, append, pending

__all__ = ["EventLogContract"]


class EventLogContract(ContractBase):
    """Checks of the `EventLog` role and the log side of a write transaction."""

    def test_empty_store(self, store: EventStore) -> None:
        assert (store.head(), store.event_count(), store.read_events(), store.streams()) == (
            0, 0, [], [])
        assert store.get_event(str(uuid.uuid4())) is None
        assert store.event_histogram() == ([], {})

    def test_append_assigns_increasing_positions_and_keeps_the_envelope(
            self, store: EventStore) -> None:
        first = pending("a", 1, data={"x": "é", "n": [1, 2]})
        with store.transaction() as tx:
            recorded = tx.append([first, pending("a", 2), pending("b", 1)])
        assert [e.position for e in recorded] == [1, 2, 3]
        stored = store.read_events()
        assert [e.to_json() for e in stored] == [e.to_json() for e in recorded]
        got = store.get_event(first.event_id)
        assert got is not None and got.data == {"x": "é", "n": [1, 2]}
        assert got.metadata["correlation_id"] == "corr" and got.recorded_at.tzinfo is not None
        assert store.head() == store.event_count() == 3

    def test_a_taken_version_is_a_conflict_and_nothing_is_written(self, store: EventStore) -> None:
        append(store, pending("a", 1))
        with pytest.raises(ConcurrencyError), store.transaction() as tx:
            tx.append([pending("b", 1), pending("a", 1)])
        assert [e.aggregate_id for e in store.read_events()] == ["a"]
        assert store.stream("b") is None

    def test_an_exception_rolls_the_transaction_back(self, store: EventStore) -> None:
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.append([pending("a", 1)])
            tx.set_checkpoint("p", 1)
            raise RuntimeError("boom")
        assert store.head() == 0 and store.checkpoints() == {}

    def test_transaction_reads_its_own_writes(self, store: EventStore) -> None:
        append(store, pending("a", 1))
        with store.transaction() as tx:
            tx.append([pending("a", 2), pending("b", 1, "Other")])
            assert [e.version for e in tx.read_stream("a")] == [1, 2]
            assert [e.version for e in tx.read_stream("a", after_version=1)] == [2]
            assert tx.head() == 3
            assert [e.position for e in tx.events_after(1)] == [2, 3]
            assert [e.event_type for e in tx.events_after(0, event_types=["Other"])] == ["Other"]
            assert [e.position for e in tx.events_after(0, limit=1)] == [1]

    def test_read_stream_slices(self, store: EventStore) -> None:
        append(store, *(pending("a", v) for v in range(1, 6)), pending("b", 1))
        assert [e.version for e in store.read_stream("a")] == [1, 2, 3, 4, 5]
        assert [e.version for e in store.read_stream("a", after_version=2)] == [3, 4, 5]
        assert [e.version for e in store.read_stream("a", to_version=2)] == [1, 2]
        assert [e.version for e in store.read_stream("a", after_version=1, limit=2)] == [2, 3]
        assert store.read_stream("zzz") == []

    def test_stream_rows_hold_what_read_stream_holds(self, store: EventStore) -> None:
        """`read_stream_rows` (what loading an aggregate folds): each event's version,
        types, schema version and data (its JSON text, or the decoded dict), own writes
        included inside a transaction."""
        append(store, *(pending("a", v, data={"v": v, "x": "é"}) for v in range(1, 5)),
               pending("b", 1))

        def rows(found: list[Any]) -> list[Any]:
            return [(v, at, et, s, json.loads(d) if isinstance(d, str) else d)
                    for v, at, et, s, d in found]

        def envelopes(found: list[Any]) -> list[Any]:
            return [(e.version, e.aggregate_type, e.event_type, e.schema_version, e.data)
                    for e in found]
        for after, to in ((0, None), (2, None), (1, 3), (4, None), (3, 1)):
            assert rows(store.read_stream_rows("a", after_version=after, to_version=to)) == \
                envelopes(store.read_stream("a", after_version=after, to_version=to))
        assert store.read_stream_rows("zzz") == []
        with store.transaction() as tx:
            tx.append([pending("a", 5, data={"v": 5})])
            assert rows(tx.read_stream_rows("a", after_version=3)) == envelopes(
                tx.read_stream("a", after_version=3))

    def test_global_log_keyset_pages_and_filters(self, store: EventStore) -> None:
        append(store,
               pending("a", 1, "Opened", {"name": "Alice"},
                       when="2026-01-01T00:00:00.000000+00:00"),
               pending("b", 1, "Opened", {"name": "Bob"}, when="2026-01-02T00:00:00.000000+00:00"),
               pending("a", 2, "Renamed", {"name": "Alicia 100%"},
                       when="2026-01-03T00:00:00.000000+00:00"))
        assert [e.position for e in store.read_events(after_position=1, limit=1)] == [2]
        assert [e.position for e in store.read_events(descending=True, limit=2)] == [3, 2]
        assert [e.position for e in store.read_events(before_position=3, descending=True)] == [2, 1]
        def by(**filters: Any) -> list[int]:
            return [e.position for e in store.read_events(filter=EventFilter(**filters))]

        assert by(aggregate_id="a") == [1, 3]
        assert by(event_types=("Renamed",)) == [3]
        assert by(event_types=("Renamed", "Opened")) == [1, 2, 3]
        assert by(since="2026-01-02T00:00:00.000000+00:00") == [2, 3]
        assert by(until="2026-01-02T00:00:00.000000+00:00") == [1]
        assert by(text="alic") == [1, 3]
        assert by(text="100%") == [3]
        assert by(text="_") == []
        assert store.event_types() == ["Opened", "Renamed"]

    def test_iter_events_in_batches(self, store: EventStore) -> None:
        append(store, *(pending("a", v) for v in range(1, 12)))
        batches = list(store.iter_events(batch_size=5))
        assert [len(b) for b in batches] == [5, 5, 1]
        assert [e.position for b in store.iter_events(after_position=3, up_to=7) for e in b] == [
            4, 5, 6, 7]

    def test_metadata_lookup(self, store: EventStore) -> None:
        cause = pending("a", 1)
        append(store, cause, pending("b", 1, causation=cause.event_id),
               pending("c", 1, causation=cause.event_id))
        found = store.events_with_metadata("causation_id", cause.event_id)
        assert [e.aggregate_id for e in found] == ["b", "c"]
        assert len(store.events_with_metadata("correlation_id", "corr")) == 3

    def test_wait_for_change_wakes_up_on_a_commit(self, store: EventStore) -> None:
        started = time.monotonic()
        assert store.wait_for_change(0, 0.2) == 0
        assert time.monotonic() - started >= 0.15

        def later() -> None:
            time.sleep(0.3)
            append(store, pending("a", 1))

        thread = threading.Thread(target=later)
        thread.start()
        assert store.wait_for_change(0, 10.0) == 1
        thread.join()

    def test_read_only_store_refuses_writes(self, store: EventStore,
                                            store_factory: StoreFactory) -> None:
        append(store, pending("a", 1))
        reader = store_factory.read_only(store)
        with pytest.raises(ReadOnlyError), reader.transaction() as tx:
            tx.append([pending("a", 2)])
        assert [e.version for e in reader.read_stream("a")] == [1]
        with pytest.raises(ReadOnlyError):
            reader.add_meta({"domain": "x"})
        reader.close()

    def test_a_savepoint_undoes_its_block_alone(self, store: EventStore) -> None:
        if not store.group_commit:
            pytest.skip("savepoints are only promised by stores that group commits")
        with store.transaction() as tx:
            tx.append([pending("a", 1)])
            with pytest.raises(ConcurrencyError), tx.savepoint():
                tx.append([pending("c", 1), pending("a", 1)])
            tx.append([pending("b", 1)])
        assert [(e.aggregate_id, e.position) for e in store.read_events()] == [("a", 1), ("b", 2)]
        assert store.stream("c") is None
