"""Schema 4's `recorded_at`: integer microseconds since the Unix epoch (UTC) in the store,
the text form (`envelope.format_time`) everywhere else. Schema 3 stored the text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident_core.envelope import format_micros, micros
from incident_core.errors import StoreError

__all__ = ["stored_time", "time_bound", "time_text"]

_last_time: tuple[str, int] = ("", 0)  # the events of one command share their time


def stored_time(text: str) -> int:
    """Schema 4's `recorded_at`: the microseconds of a time in the store's text form."""
    global _last_time  # noqa: PLW0603 - a one-entry memo, replaced whole (thread-safe)
    last = _last_time
    if last[0] == text:
        return last[1]
    value = micros(text)
    _last_time = (text, value)
    return value


def time_text(value: str | int) -> str:
    """The text form of a stored `recorded_at` (schema 4: microseconds; before: text)."""
    return format_micros(value) if isinstance(value, int) else value


def time_bound(schema_version: int, text: str) -> str | int:
    """A time bound (ISO 8601 text; no zone: UTC) as compared with the stored `recorded_at`
    of a store of `schema_version`."""
    if schema_version < 4:
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StoreError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
