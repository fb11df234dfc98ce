"""Driver errors as the library's own: callers never see `sqlite3.IntegrityError` or a
SQLAlchemy exception."""

from __future__ import annotations

from incident_core.errors import CorruptStoreError, IncidentError, ReadOnlyError, StoreError

__all__ = ["translate_errors"]


def translate_errors(exc: Exception) -> IncidentError:
    """Turn a driver/SQLAlchemy error into the library's own exception."""
    message = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
    lowered = message.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return ReadOnlyError(f"the store is read-only: {message}")
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return CorruptStoreError(f"the store is corrupt: {message}")
    return StoreError(message)
