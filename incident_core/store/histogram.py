"""Time buckets for the activity chart (shared by every adapter)."""

from __future__ import annotations

from datetime import UTC, datetime

from incident_core.envelope import format_time

__all__ = ["bucket_labels", "span_of"]

_STEPS = (1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400)


def span_of(low: float, high: float, buckets: int) -> tuple[float, float]:
    """Start and width (seconds) of `buckets` equal buckets covering [low, high]; the width
    is rounded up to a readable step (1 s, 5 s, 15 s, 1 min, ...)."""
    raw = max(high - low, 1.0) / buckets
    width = next((step for step in _STEPS if step >= raw), raw)
    start = (low // width) * width
    while start + width * buckets <= high:
        width *= 2
    return start, float(width)


def bucket_labels(start: float, width: float, buckets: int) -> list[str]:
    return [format_time(datetime.fromtimestamp(start + i * width, UTC)) for i in range(buckets)]
