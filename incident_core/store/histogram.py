"""Time buckets for the activity chart (shared by every adapter)."""

from __future__ import annotations

from datetime import UTC, datetime

from incident_core.envelope import format_time

__all__ = ["bucket_labels", "span_of"]

def span_of(low: float, high: float, buckets: int) -> tuple[float, float]:
    """Start and width (seconds) of `buckets` equal buckets exactly covering [low, high]
    (at least a millisecond wide), so the chart always spans just the data."""
    width = max(high - low, 0.001 * buckets) / buckets
    return low, width * (1 + 1e-9)  # the newest event falls inside the last bucket


def bucket_labels(start: float, width: float, buckets: int) -> list[str]:
    return [format_time(datetime.fromtimestamp(start + i * width, UTC)) for i in range(buckets)]
