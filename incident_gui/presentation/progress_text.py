"""What a long operation's progress bar says: counts, rate and time left, in texts of
several lengths so the bar can show the longest that fits. Plain Python."""

from __future__ import annotations

from incident_core.progress import Progress

__all__ = ["format_duration", "progress_texts"]


def format_duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `2 h 07 min`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_texts(name: str, progress: Progress, rate: float | None) -> list[str]:
    """What the rebuild progress bar can say, longest first (the bar shows the first that
    fits its width; the longest is its tooltip)."""
    counts = f"{progress.done:,} / {progress.total:,}"
    percent = f"{progress.fraction:.0%}"
    if rate is None:
        return [f"Rebuilding {name}: {counts} events", f"{name}: {counts}", counts, percent]
    eta = format_duration((progress.total - progress.done) / rate)
    return [f"Rebuilding {name}: {counts} events · {rate:,.0f} events/s · ETA {eta}",
            f"{name}: {counts} · {rate:,.0f}/s · ETA {eta}",
            f"{counts} · ETA {eta}", f"{percent} · ETA {eta}", percent]
