"""Driver errors as the library's own: callers never see `sqlite3.IntegrityError` or a
SQLAlchemy exception."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from incident_core.errors import CorruptStoreError, IncidentError, ReadOnlyError, StoreError

__all__ = ["sql_errors", "translate_errors"]


@contextmanager
def sql_errors() -> Iterator[None]:
    """SQLAlchemy errors raised inside the block come out as the library's own."""
    from sqlalchemy import exc as sa_exc  # here: `translate_errors` alone loads no SQLAlchemy

    try:
        yield
    except sa_exc.SQLAlchemyError as exc:
        raise translate_errors(exc) from exc


def translate_errors(exc: Exception) -> IncidentError:
    """Turn a driver/SQLAlchemy error into the library's own exception."""
    message = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
    lowered = message.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return ReadOnlyError(f"the store is read-only: {message}")
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return CorruptStoreError(f"the store is corrupt: {message}")
    return StoreError(message)
