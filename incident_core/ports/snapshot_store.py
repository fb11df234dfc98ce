"""Aggregate snapshots, read side (written with `SnapshotTransaction.save_snapshot`).
Optional: an adapter that keeps none answers from these defaults and every aggregate is
folded from its events."""

from __future__ import annotations

from collections.abc import Sequence

from incident_core.ports.values import StoredSnapshot

__all__ = ["SnapshotStore"]


class SnapshotStore:
    """Stored aggregate snapshots, by aggregate, type and state-model fingerprint."""

    def latest_snapshot(self, aggregate_id: str, aggregate_type: str, fingerprint: str,
                        at_version: int | None = None) -> StoredSnapshot | None:
        """The newest snapshot of that type and fingerprint at or before `at_version`."""
        return None

    def snapshot_versions(self, aggregate_ids: Sequence[str]) -> dict[str, int]:
        """The newest snapshot version of each of these aggregates that has one."""
        return {}
