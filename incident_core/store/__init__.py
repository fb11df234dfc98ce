"""Event + projection stores: the port and its adapters (memory, SQL)."""

from incident_core.store.base import (
    SCHEMA_VERSION,
    STORE_FORMAT,
    EventFilter,
    EventStore,
    StoreTransaction,
    StreamInfo,
)
from incident_core.store.memory import MemoryEventStore
from incident_core.store.open import describe_target, open_store
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
