"""Closed means closed: after `close()`, every read and write of every adapter raises this
error (the memory store: `memory/state.py`'s `ClosedData`; the SQL adapter:
`sql/closed_pool.py`), and nothing is reopened."""

from __future__ import annotations

from incident_core.errors import StoreError

__all__ = ["closed_error"]


def closed_error(target: str) -> StoreError:
    """The error of a read or write of the store at `target` after its `close()`."""
    return StoreError(f"{target}: the store is closed")
