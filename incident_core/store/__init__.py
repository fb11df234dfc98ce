"""Event + projection stores: the adapters (memory, SQL) of the ports in
`incident_core.ports`, and `open_store` to open one from a target.

The names below are imported on first use (PEP 562): a module of this package that needs
no SQLAlchemy (`store.sql.slim`, `store.sql.sqlite_files`) can be imported without it, so
the `incident` command's listings start fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from incident_core.ports import EventFilter, EventStore, StoreTransaction, StreamInfo
    from incident_core.store.memory import MemoryEventStore
    from incident_core.store.open import describe_target, open_store
    from incident_core.store.sql.meta import SCHEMA_VERSION, STORE_FORMAT
    from incident_core.store.sql.store import SqlEventStore

__all__ = [
    "SCHEMA_VERSION",
    "STORE_FORMAT",
    "EventFilter",
    "EventStore",
    "MemoryEventStore",
    "SqlEventStore",
    "StoreTransaction",
    "StreamInfo",
    "describe_target",
    "open_store",
]

_WHERE = {
    "incident_core.ports": ("EventFilter", "EventStore", "StoreTransaction", "StreamInfo"),
    "incident_core.store.memory": ("MemoryEventStore",),
    "incident_core.store.open": ("describe_target", "open_store"),
    "incident_core.store.sql.meta": ("SCHEMA_VERSION", "STORE_FORMAT"),
    "incident_core.store.sql.store": ("SqlEventStore",),
}


__getattr__, __dir__ = lazy_exports("incident_core.store", _WHERE, globals(), __all__)
