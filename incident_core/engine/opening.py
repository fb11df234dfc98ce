"""The engine's one door to the adapters: a target (a SQLite file, a PostgreSQL URL,
``:memory:``) opened as an `EventStore`.

`Application.open` and `incident_core.engine.binding` open stores through here, so this
is the only engine module that imports the store layer (the composition root; the layers
contract lists this one import as allowed). Everything else in the engine talks to the
ports.
"""

from __future__ import annotations

from incident_core.ports import EventStore
from incident_core.store.open import open_store

__all__ = ["open_target"]


def open_target(target: str, *, read_only: bool = False, create: bool = False,
                synchronous: str = "FULL") -> EventStore:
    """The store at `target` (see `incident_core.store.open.open_store`)."""
    return open_store(target, read_only=read_only, create=create, synchronous=synchronous)
