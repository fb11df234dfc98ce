"""The store port's contract, written once and run against every adapter."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from incident_core import ConcurrencyError, EventFilter, EventStore, ReadOnlyError, open_store
from incident_core.envelope import PendingEvent, format_time, utc_now
from incident_core.projections import ColumnSpec, ProjectionSpec

SPEC = ProjectionSpec("things", "aggregate_id", (
    ColumnSpec("aggregate_id", "text", False), ColumnSpec("count", "integer", False),
    ColumnSpec("label", "text", True), ColumnSpec("ratio", "float", True),
    ColumnSpec("flag", "boolean", True)))


def pending(aggregate_id: str, version: int, event_type: str = "Happened",
            data: dict[str, object] | None = None, *, when: str | None = None,
            causation: str | None = None) -> PendingEvent:
    meta = {"correlation_id": "corr", "causation_id": causation or "cmd"}
    return PendingEvent(str(uuid.uuid4()), aggregate_id, "Thing", event_type, version,
                        when or format_time(utc_now()), json.dumps(data or {"n": version}),
                        json.dumps(meta, separators=(",", ":")), 1, "corr", causation)


@pytest.fixture
def store(store_target: str) -> Iterator[EventStore]:
    s = open_store(store_target, create=True)
    yield s
    s.close()


def append(store: EventStore, *events: PendingEvent) -> None:
    with store.transaction() as tx:
        tx.append(list(events))


def test_empty_store(store: EventStore) -> None:
    assert (store.head(), store.event_count(), store.read_events(), store.streams()) == (
        0, 0, [], [])
    assert store.get_event(str(uuid.uuid4())) is None
    assert store.event_histogram() == ([], {})


def test_append_assigns_increasing_positions_and_keeps_the_envelope(store: EventStore) -> None:
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


def test_a_taken_version_is_a_conflict_and_nothing_is_written(store: EventStore) -> None:
    append(store, pending("a", 1))
    with pytest.raises(ConcurrencyError), store.transaction() as tx:
        tx.append([pending("b", 1), pending("a", 1)])
    assert [e.aggregate_id for e in store.read_events()] == ["a"]
    assert store.stream("b") is None


def test_an_exception_rolls_the_transaction_back(store: EventStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.append([pending("a", 1)])
        tx.set_checkpoint("p", 1)
        raise RuntimeError("boom")
    assert store.head() == 0 and store.checkpoints() == {}


def test_transaction_reads_its_own_writes(store: EventStore) -> None:
    append(store, pending("a", 1))
    with store.transaction() as tx:
        tx.append([pending("a", 2), pending("b", 1, "Other")])
        assert [e.version for e in tx.read_stream("a")] == [1, 2]
        assert [e.version for e in tx.read_stream("a", after_version=1)] == [2]
        assert tx.head() == 3
        assert [e.position for e in tx.events_after(1)] == [2, 3]
        assert [e.event_type for e in tx.events_after(0, event_types=["Other"])] == ["Other"]
        assert [e.position for e in tx.events_after(0, limit=1)] == [1]


def test_read_stream_slices(store: EventStore) -> None:
    append(store, *(pending("a", v) for v in range(1, 6)), pending("b", 1))
    assert [e.version for e in store.read_stream("a")] == [1, 2, 3, 4, 5]
    assert [e.version for e in store.read_stream("a", after_version=2)] == [3, 4, 5]
    assert [e.version for e in store.read_stream("a", to_version=2)] == [1, 2]
    assert [e.version for e in store.read_stream("a", after_version=1, limit=2)] == [2, 3]
    assert store.read_stream("zzz") == []


def test_global_log_keyset_pages_and_filters(store: EventStore) -> None:
    append(store,
           pending("a", 1, "Opened", {"name": "Alice"}, when="2026-01-01T00:00:00.000000+00:00"),
           pending("b", 1, "Opened", {"name": "Bob"}, when="2026-01-02T00:00:00.000000+00:00"),
           pending("a", 2, "Renamed", {"name": "Alicia 100%"},
                   when="2026-01-03T00:00:00.000000+00:00"))
    assert [e.position for e in store.read_events(after_position=1, limit=1)] == [2]
    assert [e.position for e in store.read_events(descending=True, limit=2)] == [3, 2]
    assert [e.position for e in store.read_events(before_position=3, descending=True)] == [2, 1]
    by = lambda **kw: [e.position for e in store.read_events(filter=EventFilter(**kw))]  # noqa: E731
    assert by(aggregate_id="a") == [1, 3]
    assert by(event_types=("Renamed",)) == [3]
    assert by(event_types=("Renamed", "Opened")) == [1, 2, 3]
    assert by(since="2026-01-02T00:00:00.000000+00:00") == [2, 3]
    assert by(until="2026-01-02T00:00:00.000000+00:00") == [1]
    assert by(text="alic") == [1, 3]
    assert by(text="100%") == [3]
    assert by(text="_") == []
    assert store.event_types() == ["Opened", "Renamed"]


def test_iter_events_in_batches(store: EventStore) -> None:
    append(store, *(pending("a", v) for v in range(1, 12)))
    batches = list(store.iter_events(batch_size=5))
    assert [len(b) for b in batches] == [5, 5, 1]
    assert [e.position for b in store.iter_events(after_position=3, up_to=7) for e in b] == [
        4, 5, 6, 7]


def test_streams_listing_keyset_and_patterns(store: EventStore) -> None:
    append(store, pending("acc-1", 1), pending("acc-1", 2), pending("acc-2", 1),
           pending("Transfer_9", 1))
    infos = store.streams()
    assert [(s.aggregate_id, s.version, s.event_count) for s in infos] == [
        ("Transfer_9", 1, 1), ("acc-1", 2, 2), ("acc-2", 1, 1)] or [
        (s.aggregate_id, s.version, s.event_count) for s in infos] == [
        ("acc-1", 2, 2), ("acc-2", 1, 1), ("Transfer_9", 1, 1)]
    ordered = [s.aggregate_id for s in infos]
    assert [s.aggregate_id for s in store.streams(after_id=ordered[0], limit=1)] == ordered[1:2]
    assert [s.aggregate_id for s in store.streams(pattern="acc")] == ["acc-1", "acc-2"]
    assert [s.aggregate_id for s in store.streams(pattern="acc-?")] == ["acc-1", "acc-2"]
    assert [s.aggregate_id for s in store.streams(pattern="*_9")] == ["Transfer_9"]
    assert [s.aggregate_id for s in store.streams(pattern="c_")] == []
    assert store.stream_count() == 3 and store.stream_count(pattern="ACC") == 2
    assert store.stream_count(aggregate_type="Thing") == 3
    assert store.stream_count(aggregate_type="Other") == 0
    assert store.aggregate_types() == ["Thing"]
    info = store.stream("acc-1")
    assert info is not None and info.last_position == 2


def test_metadata_lookup(store: EventStore) -> None:
    cause = pending("a", 1)
    append(store, cause, pending("b", 1, causation=cause.event_id),
           pending("c", 1, causation=cause.event_id))
    found = store.events_with_metadata("causation_id", cause.event_id)
    assert [e.aggregate_id for e in found] == ["b", "c"]
    assert len(store.events_with_metadata("correlation_id", "corr")) == 3


def test_projection_rows_checkpoints_and_replacement(store: EventStore) -> None:
    with store.transaction() as tx:
        assert tx.ensure_projection(SPEC) is True
        assert tx.checkpoint("things") == 0
        tx.put_row(SPEC, {"aggregate_id": "b", "count": 2, "label": None, "ratio": 0.5,
                          "flag": True})
        tx.put_row(SPEC, {"aggregate_id": "a", "count": 1, "label": "x", "ratio": None,
                          "flag": False})
        tx.put_row(SPEC, {"aggregate_id": "a", "count": 3, "label": "y", "ratio": None,
                          "flag": None})
        assert tx.get_row(SPEC, "a") == {"aggregate_id": "a", "count": 3, "label": "y",
                                         "ratio": None, "flag": None}
        tx.set_checkpoint("things", 7)
    with store.transaction() as tx:
        assert tx.ensure_projection(SPEC) is False
    assert [r["aggregate_id"] for r in store.projection_rows(SPEC)] == ["a", "b"]
    assert store.projection_rows(SPEC, after_key="a") == [
        {"aggregate_id": "b", "count": 2, "label": None, "ratio": 0.5, "flag": True}]
    assert store.projection_row_count(SPEC) == 2
    assert store.checkpoints()["things"] == 7
    with store.transaction() as tx:
        tx.delete_row(SPEC, "b")
        assert tx.get_row(SPEC, "b") is None
    assert store.projection_row_count(SPEC) == 1
    rows = [{"aggregate_id": f"k{i:03}", "count": i, "label": None, "ratio": None,
             "flag": None} for i in range(120)]
    with store.transaction() as tx:
        tx.replace_projection(SPEC, rows, 42)
    assert store.projection_rows(SPEC, limit=2) == rows[:2]
    assert store.projection_row_count(SPEC) == 120 and store.checkpoints()["things"] == 42
    with store.transaction() as tx:  # a second replacement works as well (index names etc.)
        tx.replace_projection(SPEC, rows[:1], 43)
    assert store.projection_row_count(SPEC) == 1


def test_a_changed_projection_shape_recreates_its_table(store: EventStore) -> None:
    with store.transaction() as tx:
        tx.ensure_projection(SPEC)
        tx.put_row(SPEC, {"aggregate_id": "a", "count": 1, "label": None, "ratio": None,
                          "flag": None})
        tx.set_checkpoint("things", 5)
    wider = ProjectionSpec("things", "aggregate_id", (*SPEC.columns,
                                                       ColumnSpec("extra", "text", True)))
    with store.transaction() as tx:
        assert tx.ensure_projection(wider) is True
    assert store.projection_row_count(wider) == 0 and store.checkpoints()["things"] == 0


def test_histogram_buckets_by_type(store: EventStore) -> None:
    append(store, pending("a", 1, "Opened", when="2026-01-01T00:00:00.000000+00:00"),
           pending("a", 2, "Moved", when="2026-01-01T00:00:30.000000+00:00"),
           pending("b", 1, "Opened", when="2026-01-01T00:01:00.000000+00:00"))
    labels, counts = store.event_histogram(buckets=4)
    assert len(labels) == 4 and labels[0] <= "2026-01-01T00:00:00.000000+00:00"
    assert sum(counts["Opened"]) == 2 and sum(counts["Moved"]) == 1
    assert counts["Opened"][0] == 1 and counts["Opened"][-1] + counts["Opened"][-2] == 1
    _, only_b = store.event_histogram(buckets=4, aggregate_id="b")
    assert {k: sum(v) for k, v in only_b.items()} == {"Opened": 1}


def test_wait_for_change_wakes_up_on_a_commit(store: EventStore) -> None:
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


def test_read_only_store_refuses_writes(store_target: str) -> None:
    writable = open_store(store_target, create=True)
    append(writable, pending("a", 1))
    reader = open_store(store_target, read_only=True) if store_target != "memory:" else writable
    if store_target == "memory:":
        reader.read_only = True
    with pytest.raises(ReadOnlyError), reader.transaction() as tx:
        tx.append([pending("a", 2)])
    assert [e.version for e in reader.read_stream("a")] == [1]
    reader.close()
    writable.close()
