"""Time buckets for the activity chart (shared by every adapter)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from incident_core.envelope import format_time

__all__ = ["FINE", "bucket_labels", "compress_gaps", "span_of"]

def span_of(low: float, high: float, buckets: int) -> tuple[float, float]:
    """Start and width (seconds) of `buckets` equal buckets exactly covering [low, high]
    (at least a millisecond wide), so the chart always spans just the data."""
    width = max(high - low, 0.001 * buckets) / buckets
    return low, width * (1 + 1e-9)  # the newest event falls inside the last bucket


def bucket_labels(start: float, width: float, buckets: int) -> list[str]:
    return [format_time(datetime.fromtimestamp(start + i * width, UTC)) for i in range(buckets)]


FINE = 200  # fine buckets per shown bucket, from which the shown ones are made


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


def _shares(lengths: list[int], buckets: int) -> list[int]:
    """Shown buckets per segment: in proportion to its length, at least one each, at most
    its length in fine buckets (fewer buckets in all when the segments are that short)."""
    whole = sum(lengths)
    shares = [min(length, max(1, buckets * length // whole)) for length in lengths]
    while sum(shares) > buckets:
        shares[shares.index(max(shares))] -= 1
    while sum(shares) < buckets:
        room = [i for i, length in enumerate(lengths) if shares[i] < length]
        if not room:
            break
        shares[max(room, key=lambda i: lengths[i] / shares[i])] += 1
    return shares


def compress_gaps(start: float, width: float, fine: dict[str, list[int]],
                  buckets: int) -> tuple[list[str], dict[str, list[int]]]:
    """Shown buckets made from `fine` equal buckets (start, width in seconds): a long
    stretch with no event (a quarter of the span or more) becomes one empty bucket,
    and the others share the periods that hold events, so a burst long ago and one event
    now both stay readable instead of collapsing into one bar at each end."""
    size = len(next(iter(fine.values()), []))
    totals = [sum(series[i] for series in fine.values()) for i in range(size)]
    segments = _segments(totals, max(size // 4, 1))
    if not 1 < len(segments) <= max(buckets // 4, 1):  # one period, or too scattered
        edges = [round(i * size / buckets) for i in range(buckets + 1)]
    else:
        gaps = len(segments) - 1
        shares = _shares([hi - lo for lo, hi in segments], buckets - gaps)
        edges = []
        for (lo, hi), share in zip(segments, shares, strict=True):
            edges += [lo + round(j * (hi - lo) / share) for j in range(share)]
            edges.append(hi)  # the gap after it (or the end) starts here
        edges[0] = 0
    labels = [format_time(datetime.fromtimestamp(start + e * width, UTC)) for e in edges[:-1]]
    counts = {name: [sum(series[a:b]) for a, b in pairwise(edges)]
              for name, series in fine.items()}
    return labels, counts
