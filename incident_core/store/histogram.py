"""Time buckets for the activity chart (shared by every adapter)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from itertools import pairwise

from incident_core.envelope import format_time

__all__ = ["FINE", "Fine", "FineReader", "adaptive_histogram", "bucket_labels", "span_of"]

def span_of(low: float, high: float, buckets: int) -> tuple[float, float]:
    """Start and width (seconds) of `buckets` equal buckets exactly covering [low, high]
    (at least a millisecond wide), so the chart always spans just the data."""
    width = max(high - low, 0.001 * buckets) / buckets
    return low, width * (1 + 1e-9)  # the newest event falls inside the last bucket


def bucket_labels(start: float, width: float, buckets: int) -> list[str]:
    return [format_time(datetime.fromtimestamp(start + i * width, UTC)) for i in range(buckets)]


FINE = 20  # fine buckets per shown bucket, from which the shown ones are made


def _segments(totals: list[int], gap: int) -> list[tuple[int, int]]:
    """[lo, hi) runs of fine buckets holding events, split where `gap` or more empty fine
    buckets follow each other."""
    segments: list[tuple[int, int]] = []
    lo = last = None
    for index, total in enumerate(totals):
        if not total:
            continue
        if lo is None or last is None:
            lo = index
        elif index - last - 1 >= gap:
            segments.append((lo, last + 1))
            lo = index
        last = index
    if lo is not None and last is not None:
        segments.append((lo, last + 1))
    return segments


def _shares(weights: list[int], buckets: int) -> list[int]:
    """Shown buckets per busy period: in proportion to its events, at least one each."""
    whole = max(sum(weights), 1)
    ideal = [buckets * weight / whole for weight in weights]
    shares = [max(1, int(share)) for share in ideal]
    while sum(shares) > buckets:
        shares[shares.index(max(shares))] -= 1
    while sum(shares) < buckets:  # the largest remainders get the buckets left
        shares[max(range(len(weights)), key=lambda i: ideal[i] - shares[i])] += 1
    return shares


Fine = tuple[float, float, dict[str, list[int]]]  # start, width (seconds), counts
# read(since, until, buckets): equal buckets exactly covering the events recorded in
# [since, until) (ISO texts, None: unbounded), or None when there are none.
FineReader = Callable[[str | None, str | None, int], Fine | None]
_EDGE = 0.001  # a segment's range reaches a millisecond into the quiet stretch around it


def _text(seconds: float) -> str:
    return format_time(datetime.fromtimestamp(seconds, UTC))


def adaptive_histogram(read: FineReader, buckets: int, since: str | None,
                       until: str | None) -> tuple[list[str], dict[str, list[int]]]:
    """Shown buckets over the events in [since, until): equal buckets, unless long quiet
    stretches (a quarter of the span or more) split the events into a few busy periods.
    Then each quiet stretch is one empty bucket and each busy period is read again with
    its own buckets (in proportion to its events), so a burst long ago and one event now
    both stay readable instead of collapsing into one bar at each end."""
    found = read(since, until, buckets * FINE)
    if found is None:
        return [], {}
    start, width, fine = found
    size = buckets * FINE
    totals = [sum(series[i] for series in fine.values()) for i in range(size)]
    segments = _segments(totals, max(size // 4, 1))
    if not 1 < len(segments) <= max(buckets // 4, 1):  # one period, or too scattered
        edges = [round(i * size / buckets) for i in range(buckets + 1)]
        return ([_text(start + e * width) for e in edges[:-1]],
                {name: [sum(series[a:b]) for a, b in pairwise(edges)]
                 for name, series in fine.items()})
    events = [sum(totals[lo:hi]) for lo, hi in segments]
    shares = _shares(events, buckets - len(segments) + 1)
    labels: list[str] = []
    counts: dict[str, list[int]] = {name: [] for name in fine}
    for number, ((lo, hi), share) in enumerate(zip(segments, shares, strict=True)):
        if number:  # the quiet stretch before this period: one empty bucket
            labels.append(_text(start + segments[number - 1][1] * width))
            for series in counts.values():
                series.append(0)
        part = read(_text(start + lo * width - _EDGE), _text(start + hi * width + _EDGE), share)
        if part is None:
            continue
        part_start, part_width, part_counts = part
        labels += [_text(part_start + i * part_width) for i in range(share)]
        for name, series in counts.items():
            series.extend(part_counts.get(name, [0] * share))
    return labels, counts
