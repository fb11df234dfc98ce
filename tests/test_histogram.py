"""The activity histogram keeps a useful time axis: a long quiet stretch becomes one empty
bucket (a burst long ago and one event now both stay readable), and a range zooms in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from incident_core import EventStore, open_store
from incident_core.testing import append, pending


@pytest.fixture
def store(store_target: str) -> Iterator[EventStore]:
    s = open_store(store_target, create=True)
    burst = [pending("a", n, "Burst", when=f"2026-01-01T00:00:{n:02d}.000000+00:00")
             for n in range(1, 41)]  # 40 events over 40 seconds
    late = pending("b", 1, "Late", when="2026-01-01T06:00:00.000000+00:00")  # 6 hours on
    append(s, *burst, late)
    yield s
    s.close()


def test_a_long_gap_becomes_one_empty_bucket(store: EventStore) -> None:
    labels, counts = store.event_histogram(buckets=60)
    starts = [datetime.fromisoformat(label) for label in labels]
    assert starts == sorted(starts)
    busy = [i for i, n in enumerate(counts["Burst"]) if n]
    assert len(busy) >= 10  # the burst is spread over many bars, not one
    assert sum(counts["Burst"]) == 40 and sum(counts["Late"]) == 1
    assert counts["Late"][-1] == 1
    totals = [sum(series[i] for series in counts.values()) for i in range(len(labels))]
    gap = totals.index(0, busy[-1])
    assert totals[gap + 1:] == [1]  # one empty bucket for the quiet hours, then "Late"
    assert (starts[gap + 1] - starts[gap]).total_seconds() > 5 * 3600


def test_a_range_zooms_in(store: EventStore) -> None:
    labels, counts = store.event_histogram(buckets=20, since="2026-01-01T00:00:10.000000+00:00",
                                           until="2026-01-01T00:00:20.000000+00:00")
    assert len(labels) == 20 and set(counts) == {"Burst"}
    assert sum(counts["Burst"]) == 10
    first = datetime.fromisoformat(labels[0])
    assert abs(first - datetime.fromisoformat("2026-01-01T00:00:10+00:00")).total_seconds() < 0.01
    assert store.event_histogram(since="2026-02-01T00:00:00.000000+00:00") == ([], {})
