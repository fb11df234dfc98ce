"""Projections: read models rebuilt from the event log."""

from incident_core.projections.definition import (
    DELETE,
    ColumnSpec,
    Delete,
    Projection,
    ProjectionSpec,
    RowBuffer,
)
from incident_core.projections.row import Row

__all__ = ["DELETE", "ColumnSpec", "Delete", "Projection", "ProjectionSpec", "Row",
           "RowBuffer"]
