"""Folding recorded events into projection rows in memory (shared by rebuild and verify).

One `ProjectionFold` serves several projections at once: each event is decoded once, then
handed to every projection that handles it. Rows stay row models in a `RowBuffer` while
folding and are dumped to the store's dict form once, at the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from incident_core.domain import Domain, Event
from incident_core.engine.application import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.projections.definition import ColumnSpec, Projection, ProjectionSpec, RowBuffer

__all__ = ["ProjectionFold", "decode", "normalise_row"]



def _nothing_stored(keys: list[str]) -> dict[str, dict[str, Any]]:
    return {}


def decode(domain: Domain, recorded: RecordedEvent) -> Event:
    """The domain event of a recorded one; a failure is the domain's (exit code 5)."""
    try:
        return domain.decode(recorded.event_type, recorded.data, recorded.schema_version)
    except IncidentError:
        raise
    except Exception as exc:
        raise DomainCodeError(f"decoding event #{recorded.position} "
                              f"({recorded.event_type})", exc) from exc


class _Route:
    """One projection's share of the fold: its rows, and the last position it may see."""

    __slots__ = ("applied", "buffer", "key_for", "name", "until")

    def __init__(self, projection: Projection[Any], until: int | None) -> None:
        self.name = projection.name
        self.key_for = projection.key_for
        self.buffer = RowBuffer(projection, _nothing_stored)
        self.applied = 0
        self.until = until


class ProjectionFold:
    """Replays events into the rows of several projections.

    `until` caps a projection at a position (verify replays each projection only up to
    its checkpoint); event types the domain does not know are skipped, as the live
    projector does.
    """

    def __init__(self, domain: Domain, projections: Sequence[Projection[Any]],
                 until: dict[str, int] | None = None) -> None:
        self.domain = domain
        self._routes = {p.name: _Route(p, (until or {}).get(p.name)) for p in projections}
        self._by_type: dict[str, list[_Route]] = {}
        for projection in projections:
            for event_type in projection.event_type_names:
                if domain.knows_event(event_type):
                    self._by_type.setdefault(event_type, []).append(self._routes[projection.name])

    @property
    def event_types(self) -> tuple[str, ...]:
        """The event types some projection of this fold handles."""
        return tuple(self._by_type)

    def rows(self, name: str) -> Iterator[dict[str, Any]]:
        """The replayed rows of a projection, in the store's dict form."""
        return self._routes[name].buffer.dumped_rows()

    def row_count(self, name: str) -> int:
        return sum(1 for row in self._routes[name].buffer.rows.values() if row is not None)

    def applied(self, name: str) -> int:
        return self._routes[name].applied

    def feed(self, recorded: RecordedEvent, event: Event | None = None) -> None:
        """Apply one event (decoded here unless `event` is given) to every projection."""
        routes = self._by_type.get(recorded.event_type)
        if not routes:
            return
        if event is None:
            event = decode(self.domain, recorded)
        position = recorded.position
        for route in routes:
            if route.until is not None and position > route.until:
                continue
            _apply(route, recorded, event)

    def wants(self, event_type: str) -> bool:
        return event_type in self._by_type


def _apply(route: _Route, recorded: RecordedEvent, event: Event) -> None:
    try:
        route.buffer.apply(route.key_for(recorded, event), recorded, event)
    except IncidentError:
        raise
    except Exception as exc:
        raise DomainCodeError(f"projection {route.name} on {recorded.event_type}",
                              exc) from exc
    route.applied += 1


def _normalise_value(column: ColumnSpec, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "integer":
        return int(value)
    if column.kind == "float":
        return float(value)
    if column.kind == "boolean":
        return bool(value)
    return value if isinstance(value, str) else str(value)


def normalise_row(spec: ProjectionSpec, row: dict[str, Any]) -> dict[str, Any]:
    """A row with the value types a SQL store gives back (so replayed and stored rows
    compare equal whatever the adapter)."""
    return {c.name: _normalise_value(c, row.get(c.name)) for c in spec.columns}
