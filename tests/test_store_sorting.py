"""Sorted keyset reads: every adapter pages the log, the streams and projection rows in the
same order as a plain sort in Python, page after page, with ties broken by a unique key."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from incident_core import EventFilter, EventStore, open_store
from incident_core.ports.sorting import (
    EVENT_SORT_COLUMNS,
    STREAM_SORT_COLUMNS,
    SortKey,
    event_cursor,
    event_sort_value,
    null_last,
    stream_cursor,
)
from incident_core.testing import SPEC, pending


@pytest.fixture
def store(store_target: str) -> Iterator[EventStore]:
    s = open_store(store_target, create=True)
    rng = random.Random(7)
    versions: dict[str, int] = {}
    batch = []
    for n in range(120):
        aggregate = f"agg-{rng.randrange(15):02d}"
        versions[aggregate] = versions.get(aggregate, 0) + 1
        when = f"2026-01-0{1 + rng.randrange(3)}T00:00:00.000000Z"  # many equal times
        batch.append(pending(aggregate, versions[aggregate], rng.choice(["A", "B", "C"]),
                             {"n": n}, when=when))
    with s.transaction() as tx:
        tx.append(batch)
    yield s
    s.close()


def pages(read: Callable[[Any], list[Any]], cursor: Callable[[Any], Any]) -> list[Any]:
    """Every row, read 7 at a time through the keyset cursor."""
    out: list[Any] = []
    after = None
    while True:
        page = read(after)
        out += page
        if len(page) < 7:
            return out
        after = cursor(page[-1])


@pytest.mark.parametrize("column", EVENT_SORT_COLUMNS)
@pytest.mark.parametrize("descending", [False, True])
def test_the_log_sorted_by_any_column_pages_like_a_plain_sort(
        store: EventStore, column: str, descending: bool) -> None:
    sort = SortKey(column, descending)
    got = pages(lambda after: store.read_events_sorted(sort, after=after, limit=7),
                lambda e: event_cursor(e, sort))
    expected = sorted(store.read_events(),
                      key=lambda e: (event_sort_value(e, column), e.position),
                      reverse=descending)
    assert [e.position for e in got] == [e.position for e in expected]


def test_the_sorted_log_honours_the_filter(store: EventStore) -> None:
    flt = EventFilter(event_types=("A",))
    sort = SortKey("aggregate_id", descending=True)
    got = pages(lambda after: store.read_events_sorted(sort, after=after, limit=7, filter=flt),
                lambda e: event_cursor(e, sort))
    expected = sorted(store.read_events(filter=flt), key=lambda e: (e.aggregate_id, e.position),
                      reverse=True)
    assert [e.position for e in got] == [e.position for e in expected]
    assert got and {e.event_type for e in got} == {"A"}


@pytest.mark.parametrize("column", STREAM_SORT_COLUMNS)
def test_streams_sorted_by_any_column(store: EventStore, column: str) -> None:
    for descending in (False, True):
        sort = SortKey(column, descending)
        got = pages(lambda after, s=sort: store.streams_sorted(s, after=after, limit=7),
                    lambda info, s=sort: stream_cursor(info, s))
        expected = sorted(store.streams(), key=lambda i: (getattr(i, column), i.aggregate_id),
                          reverse=descending)
        assert got == expected
    newest = store.streams_sorted(SortKey("last_position", True), limit=1)[0]
    assert newest.last_position == store.head()


def test_streams_sorted_with_a_pattern(store: EventStore) -> None:
    got = store.streams_sorted(SortKey("event_count", True), pattern="agg-0*")
    assert [i.aggregate_id for i in got] == [
        i.aggregate_id for i in sorted(store.streams(pattern="agg-0*"),
                                       key=lambda i: (i.event_count, i.aggregate_id),
                                       reverse=True)]


def test_projection_rows_sorted_with_nulls_last(store: EventStore) -> None:
    rng = random.Random(3)
    rows = [{"aggregate_id": f"k{n:02d}", "count": rng.randrange(4),
             "label": rng.choice([None, "x", "y"]), "ratio": rng.choice([None, 0.5, 1.5]),
             "flag": rng.choice([None, True, False])} for n in range(30)]
    with store.transaction() as tx:
        tx.ensure_projection(SPEC)
        tx.put_rows(SPEC, rows)
    for column in ("aggregate_id", "count", "label", "ratio", "flag"):
        for descending in (False, True):
            sort = SortKey(column, descending)
            got = pages(lambda after, s=sort: store.projection_rows_sorted(
                SPEC, s, after=after, limit=7),
                lambda r, c=column: (r[c], r["aggregate_id"]))
            expected = sorted(rows, key=lambda r, c=column: null_last(r[c], r["aggregate_id"]),
                              reverse=descending)
            assert [r["aggregate_id"] for r in got] == [r["aggregate_id"] for r in expected], (
                column, descending)


def test_an_unknown_sort_column_is_refused(store: EventStore) -> None:
    with pytest.raises(ValueError, match="cannot sort by 'data'"):
        store.read_events_sorted(SortKey("data"))
