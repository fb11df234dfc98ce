"""Event + projection stores: the adapters (memory, SQL) of the ports in
`incident_core.ports`, and `open_store` to open one from a target."""

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
