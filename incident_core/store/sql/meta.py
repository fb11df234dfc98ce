"""The store's key/value metadata (`incident_meta`) and projection fingerprints, for every
adapter: what `EventStore.meta()` / `set_meta()` / `projection_signatures()` read and write.

Keys are only ever added (`set_meta` never overwrites): the domain a store belongs to is
recorded once, by the first write, and two writers racing to record it cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from incident_core.errors import ReadOnlyError
from incident_core.store.sql import schema

if TYPE_CHECKING:
    from incident_core.store.base import EventStore

__all__ = ["add_meta", "projection_signatures", "read_meta"]


def read_meta(store: EventStore) -> dict[str, str]:
    from incident_core.store.sql.store import SqlEventStore, translate_errors

    if not isinstance(store, SqlEventStore):
        return dict(store.memory_meta)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(schema.meta.c.key, schema.meta.c.value)).all()
    except sa_exc.SQLAlchemyError as exc:
        raise translate_errors(exc) from exc
    return {str(key): str(value) for key, value in rows}


def add_meta(store: EventStore, values: Mapping[str, str]) -> dict[str, str]:
    """Record the keys not recorded yet; return the metadata as it is afterwards."""
    from incident_core.store.sql.store import SqlEventStore, translate_errors

    if store.read_only:
        raise ReadOnlyError(f"{store.target} is open read-only")
    if not isinstance(store, SqlEventStore):
        for key, value in values.items():
            store.memory_meta.setdefault(key, value)
        return dict(store.memory_meta)
    insert = postgresql.insert if store.dialect == "postgresql" else sqlite.insert
    rows = [{"key": k, "value": v} for k, v in values.items()]
    try:
        with store._write_engine.begin() as conn:
            conn.execute(insert(schema.meta).on_conflict_do_nothing(index_elements=["key"]),
                         rows)
    except sa_exc.SQLAlchemyError as exc:
        raise translate_errors(exc) from exc
    return read_meta(store)


def projection_signatures(store: EventStore) -> dict[str, str]:
    """Projection name → the fingerprint of the row shape its table was made with
    ("" where unknown)."""
    from incident_core.store.memory import MemoryEventStore
    from incident_core.store.sql.store import SqlEventStore, translate_errors

    if isinstance(store, MemoryEventStore):
        return dict(store._signatures)
    if not isinstance(store, SqlEventStore):
        return {}
    cp = schema.checkpoints
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(cp.c.name, cp.c.signature)).all()
    except sa_exc.SQLAlchemyError as exc:
        raise translate_errors(exc) from exc
    return {str(name): str(signature or "") for name, signature in rows}
