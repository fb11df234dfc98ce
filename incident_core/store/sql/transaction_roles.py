"""The saga, lineage and snapshot roles of the SQL adapter's write transaction: parked
steps, rejected saga commands, row lineage and aggregate snapshots, each in its side table
(created on first use in stores made before it existed)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from incident_core.envelope import RecordedEvent
from incident_core.ports import StoredSnapshot
from incident_core.process import ParkedStep, SagaOutcome
from incident_core.store.sql import aggregate_snapshots, import_indexes, import_rows
from incident_core.store.sql import lineage as sql_lineage
from incident_core.store.sql import parking as sql_parking
from incident_core.store.sql import saga_outcomes as sql_saga_outcomes
from incident_core.store.sql.transaction import SqlTransaction

__all__ = ["SqlStoreTransaction"]


class SqlStoreTransaction(SqlTransaction):
    """Every role of a SQL write transaction: what `SqlEventStore.transaction()` yields."""

    def append_envelopes(self, envelopes: Sequence[dict[str, Any]]
                         ) -> list[RecordedEvent] | None:
        return import_rows.append_envelopes(self, envelopes)

    def bulk_load(self) -> AbstractContextManager[None]:
        return import_indexes.deferred_indexes(self)

    def save_snapshot(self, snapshot: StoredSnapshot) -> None:
        aggregate_snapshots.save(self.conn, self.store.sql_dialect, snapshot,
                                 self.store.seen_tables, self._made)

    def park(self, step: ParkedStep) -> None:
        sql_parking.park(self.conn, self.store.sql_dialect, step)

    def unpark(self, process_manager: str, position: int) -> None:
        sql_parking.unpark(self.conn, process_manager, position)

    def parked(self, process_manager: str, position: int) -> ParkedStep | None:
        return sql_parking.parked(self.conn, process_manager, position)

    def record_saga_outcome(self, outcome: SagaOutcome) -> None:
        sql_saga_outcomes.record(self.conn, outcome)

    def record_lineage(self, entries: Sequence[tuple[str, str, int]]) -> None:
        sql_lineage.record(self, entries)

    def clear_lineage(self, projection: str) -> None:
        sql_lineage.clear(self, projection)

    def rename_lineage(self, old: str, new: str) -> None:
        sql_lineage.rename(self, old, new)

    def mark_lineage(self, projection: str, start: int | None) -> None:
        sql_lineage.mark(self, projection, start)
