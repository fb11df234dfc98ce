"""The projection store port, read side: rows of projection tables, their checkpoints
and the row shape each table was made with. Writes go through `ProjectionTransaction`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from incident_core.projections.definition import ProjectionSpec

__all__ = ["ProjectionStore"]


class ProjectionStore(ABC):
    """Committed projection rows, by key (keyset pages, never OFFSET)."""

    @abstractmethod
    def projection_rows(self, spec: ProjectionSpec, *, after_key: str | None = None,
                        limit: int | None = None) -> list[dict[str, Any]]:
        ...

    @abstractmethod
    def projection_row_count(self, spec: ProjectionSpec) -> int:
        ...

    @abstractmethod
    def checkpoints(self) -> dict[str, int]:
        """Projection / process manager name → the last position it applied."""

    @abstractmethod
    def projection_signatures(self) -> dict[str, str]:
        """Projection name → fingerprint of the row shape its table was made with
        ("" where unknown)."""
