"""The inspector queries' contract: streams by keyset and pattern, counts, types, the
activity histogram, sorted keyset pages."""

from __future__ import annotations

from typing import Any

from incident_core.ports import EventFilter, EventStore
from incident_core.ports.sorting import SortKey, event_cursor, stream_cursor
from incident_core.testing.factory import SPEC, ContractBase, append, pending

__all__ = ["InspectorContract"]


class InspectorContract(ContractBase):
    """Checks of the `InspectorQueries` role."""

    def test_streams_listing_keyset_and_patterns(self, store: EventStore) -> None:
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

    def test_a_read_by_a_text_holding_a_nul_finds_nothing(self, store: EventStore) -> None:
        """No key, id or pattern the log keeps holds a NUL (writes refuse one), so a read
        asking for one finds nothing, whatever the database does with such a text."""
        append(store, pending("acc-1", 1))
        nul, flt = "\x00", EventFilter(text="\x00")
        assert store.streams(pattern="acc" + nul + "*") == [] and store.stream(nul) is None
        assert store.stream_count(pattern=nul) == 0 and store.read_stream("acc-1" + nul) == []
        assert store.read_events(filter=flt) == [] and store.get_event(nul) is None
        assert store.read_events(filter=EventFilter(aggregate_id="acc-1" + nul)) == []
        assert store.events_with_metadata("correlation_id", "corr" + nul) == []
        assert [s.aggregate_id for s in store.streams(pattern="acc*")] == ["acc-1"]

    def test_histogram_buckets_by_type(self, store: EventStore) -> None:
        append(store, pending("a", 1, "Opened", when="2026-01-01T00:00:00.000000+00:00"),
               pending("a", 2, "Moved", when="2026-01-01T00:00:30.000000+00:00"),
               pending("b", 1, "Opened", when="2026-01-01T00:01:00.000000+00:00"))
        labels, counts = store.event_histogram(buckets=4)
        assert len(labels) == 4 and labels[0] <= "2026-01-01T00:00:00.000000+00:00"
        assert sum(counts["Opened"]) == 2 and sum(counts["Moved"]) == 1
        assert counts["Opened"][0] == 1 and counts["Opened"][-1] + counts["Opened"][-2] == 1
        _, only_b = store.event_histogram(buckets=4, aggregate_id="b")
        assert {k: sum(v) for k, v in only_b.items()} == {"Opened": 1}

    def test_sorted_event_and_stream_pages_follow_their_cursor(self, store: EventStore) -> None:
        append(store, pending("b", 1, "Zeta"), pending("a", 1, "Alpha"),
               pending("b", 2, "Alpha"))
        sort = SortKey("event_type")
        first = store.read_events_sorted(sort, limit=2)
        assert [(e.event_type, e.position) for e in first] == [("Alpha", 2), ("Alpha", 3)]
        rest = store.read_events_sorted(sort, after=event_cursor(first[-1], sort))
        assert [e.position for e in rest] == [1]
        down = SortKey("event_type", descending=True)
        assert [e.position for e in store.read_events_sorted(down)] == [1, 3, 2]
        by_version = SortKey("version", descending=True)
        top = store.streams_sorted(by_version, limit=1)
        assert [s.aggregate_id for s in top] == ["b"]
        after = stream_cursor(top[0], by_version)
        assert [s.aggregate_id for s in store.streams_sorted(by_version, after=after)] == ["a"]

    def test_sorted_projection_rows_put_nulls_last(self, store: EventStore) -> None:
        rows = [{"aggregate_id": key, "count": count, "label": label, "ratio": None,
                 "flag": None} for key, count, label in (("a", 1, "y"), ("b", 2, None),
                                                          ("c", 3, "x"))]
        with store.transaction() as tx:
            tx.ensure_projection(SPEC)
            tx.put_rows(SPEC, rows)
        by_label = SortKey("label")
        def keys(page: list[dict[str, Any]]) -> list[Any]:
            return [r["aggregate_id"] for r in page]

        assert keys(store.projection_rows_sorted(SPEC, by_label)) == ["c", "a", "b"]
        first = store.projection_rows_sorted(SPEC, by_label, limit=1)[0]
        after = (first["label"], first["aggregate_id"])
        assert keys(store.projection_rows_sorted(SPEC, by_label, after=after)) == ["a", "b"]
        down = SortKey("label", descending=True)
        assert keys(store.projection_rows_sorted(SPEC, down)) == ["b", "a", "c"]
