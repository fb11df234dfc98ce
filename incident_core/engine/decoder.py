"""The one decoder: a recorded event back to its domain event, as every reader sees it.

Loading an aggregate, projecting, running a saga step, rebuilding, verifying, staging
lineage and the catalogue all decode through `decode`, so a stored event means the same
thing everywhere (upcasters applied by `Domain.decode`), and a failure is always the
domain's, naming the event.
"""

from __future__ import annotations

from incident_core.domain import Domain
from incident_core.engine.results import DomainCodeError
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError
from incident_core.messages import Event

__all__ = ["decode"]


def decode(domain: Domain, recorded: RecordedEvent) -> Event:
    """The domain event of a recorded one; a failure is the domain's (exit code 5)."""
    try:
        return domain.decode(recorded.event_type, recorded.data, recorded.schema_version)
    except IncidentError:
        raise
    except Exception as exc:  # bad stored data, a missing or failing upcaster
        raise DomainCodeError(f"decoding event #{recorded.position} "
                              f"({recorded.event_type})", exc) from exc
