"""Checking each stored event against its checksum (schema 3), for `incident verify`."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import bindparam, select

from incident_core.ports import EventStore
from incident_core.store.sql.queries import E
from incident_core.store.sql.slim import checksum
from incident_core.store.sql.store import SqlEventStore

__all__ = ["checksum_findings"]

_PAGE = 5000
_COLUMNS = (E.c.position, E.c.event_id, E.c.aggregate_id, E.c.aggregate_type, E.c.event_type,
            E.c.version, E.c.recorded_at, E.c.data, E.c.metadata, E.c.schema_version,
            E.c.command_id, E.c.causation_id, E.c.correlation_id)
_PAGE_QUERY = (select(*_COLUMNS, E.c.checksum)
               .where(E.c.position > bindparam("after"), E.c.position <= bindparam("up_to"))
               .order_by(E.c.position).limit(_PAGE))


def checksum_findings(store: EventStore, up_to: int) -> Iterator[str]:
    """One line per event (up to position `up_to`) whose stored content no longer matches
    the checksum written with it; nothing for stores without checksums (memory, schema < 3)."""
    if not isinstance(store, SqlEventStore) or store.schema_version < 3:
        return
    after = 0
    while True:
        with store._reading() as conn:
            rows = conn.execute(_PAGE_QUERY, {"after": after, "up_to": up_to}).all()
        for row in rows:
            *content, stored = row
            if stored is None or checksum(*content) != int(stored):
                yield (f"event #{row[0]} ({row[1]}): its stored content does not match its "
                       "checksum (changed outside Incident)")
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]
