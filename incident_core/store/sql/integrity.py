"""Checking each stored event against its checksum (schema 3), for `incident verify`."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import bindparam, select

from incident_core.ports import EventStore
from incident_core.store.sql.queries import E
from incident_core.store.sql.slim import row_checksum
from incident_core.store.sql.store import SqlEventStore

__all__ = ["checksum_findings"]

_PAGE = 5000
_COLUMNS = (E.c.position, E.c.event_id, E.c.aggregate_id, E.c.aggregate_type, E.c.event_type,
            E.c.version, E.c.recorded_at, E.c.data, E.c.metadata, E.c.schema_version,
            E.c.command_id, E.c.causation_id, E.c.correlation_id)
_PAGE_QUERY = (select(*_COLUMNS, E.c.checksum)
               .where(E.c.position > bindparam("after"), E.c.position <= bindparam("up_to"))
               .order_by(E.c.position).limit(_PAGE))
# Schema 4: the lifted command type too (before the checksum).
_PAGE_QUERY4 = _PAGE_QUERY.with_only_columns(*_COLUMNS, E.c.command_type, E.c.checksum)


def checksum_findings(store: EventStore, up_to: int) -> Iterator[str]:
    """One line per event (up to position `up_to`) whose stored content no longer matches
    the checksum written with it; nothing for stores without checksums (memory, schema < 3)."""
    if not isinstance(store, SqlEventStore) or store.schema_version < 3:
        return
    after = 0
    while True:
        with store.reading() as conn:
            query = _PAGE_QUERY4 if store.schema_version >= 4 else _PAGE_QUERY
            rows = conn.execute(query, {"after": after, "up_to": up_to}).all()
        for row in rows:
            *content, stored = row
            if stored is None or row_checksum(content) != int(stored):
                yield (f"event #{row[0]} ({row[1]}): its stored content does not match its "
                       "checksum (changed outside Incident)")
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]
