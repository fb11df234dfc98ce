"""The store ports, by role (the model layer: imports nothing from engine, store or
operations). An adapter implements `EventStore`, the composition of them all; code that
needs one role asks for that role.

Read side: `EventLog` (append via a transaction, read the log and streams, wait for
changes), `ProjectionStore` (rows, checkpoints, table shapes), `SagaLedger` (parked steps,
saga outcomes), `SnapshotStore` (aggregate snapshots), `InspectorQueries` (what only the
inspector and the CLI read). Write side: `StoreTransaction` = `EventLogTransaction` +
`ProjectionTransaction` + `SagaTransaction` + `SnapshotTransaction`.
"""

from incident_core.ports.event_log import EventLog
from incident_core.ports.inspector import InspectorQueries
from incident_core.ports.projection_store import ProjectionStore
from incident_core.ports.saga_ledger import SagaLedger
from incident_core.ports.snapshot_store import SnapshotStore
from incident_core.ports.sorting import Cursor, SortKey
from incident_core.ports.store import EventStore
from incident_core.ports.transaction import (
    CheckpointTransaction,
    EventLogTransaction,
    ProjectionTransaction,
    SagaTransaction,
    SnapshotTransaction,
    StoreTransaction,
)
from incident_core.ports.values import (
    EventFilter,
    LineageEntry,
    StoredSnapshot,
    StreamInfo,
    StreamRow,
)

__all__ = [
    "CheckpointTransaction",
    "Cursor",
    "EventFilter",
    "EventLog",
    "EventLogTransaction",
    "EventStore",
    "InspectorQueries",
    "LineageEntry",
    "ProjectionStore",
    "ProjectionTransaction",
    "SagaLedger",
    "SagaTransaction",
    "SnapshotStore",
    "SnapshotTransaction",
    "SortKey",
    "StoreTransaction",
    "StoredSnapshot",
    "StreamInfo",
    "StreamRow",
]
