"""The store's key/value metadata (`incident_meta`: format, schema version, the domain it
is for) and the projection fingerprints kept with the checkpoints, on a SQL connection.

Keys are only ever added (`add_meta` never overwrites): the domain a store belongs to is
recorded once, by the first write, and two writers racing to record it cannot both win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, select

from incident_core.errors import CorruptStoreError, NewerSchemaError, NotAStoreError
from incident_core.store.sql import schema

__all__ = ["SCHEMA_VERSION", "STORE_FORMAT", "add_meta", "check_meta", "format_rows",
           "projection_signatures", "read_meta"]

STORE_FORMAT = "incident-store"
SCHEMA_VERSION = 6  # 2: causation_id / correlation_id columns, event type index; 3: slim rows
# (ids stored once, partial indexes), a checksum per event; 4: recorded_at in microseconds;
# 5: row lineage as an index of custom-key events (see migrations_lineage); 6: a checkpoint
# at the head may be stored as FOLLOWS (queries.FOLLOWS, no checkpoint write per command)


def format_rows() -> list[dict[str, str]]:
    """The meta rows every new store starts with."""
    return [{"key": "format", "value": STORE_FORMAT},
            {"key": "schema_version", "value": str(SCHEMA_VERSION)}]


def check_meta(rows: Iterable[Any], where: str) -> int:
    """The schema version in these (key, value) meta rows; refuses anything but an Incident
    store of a schema this version understands."""
    meta = {str(key): str(value) for key, value in rows}
    if meta.get("format") != STORE_FORMAT:
        raise NotAStoreError(f"{where} is not an Incident store")
    try:
        version = int(meta.get("schema_version", "0"))
    except ValueError:
        raise CorruptStoreError(f"{where} has an unreadable schema version") from None
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"{where} has store schema {version}, newer than this Incident understands "
            f"({SCHEMA_VERSION}); upgrade Incident to open it")
    return version


def read_meta(conn: Connection) -> dict[str, str]:
    rows = conn.execute(select(schema.meta.c.key, schema.meta.c.value)).all()
    return {str(key): str(value) for key, value in rows}


def add_meta(conn: Connection, insert: Callable[[Table], Any],
             values: Mapping[str, str]) -> None:
    """Record the keys not recorded yet (`insert`: the dialect's INSERT ... ON CONFLICT)."""
    rows = [{"key": k, "value": v} for k, v in values.items()]
    if rows:
        conn.execute(insert(schema.meta).on_conflict_do_nothing(index_elements=["key"]), rows)


def projection_signatures(conn: Connection) -> dict[str, str]:
    """Projection name → the fingerprint of the row shape its table was made with
    ("" where unknown)."""
    cp = schema.checkpoints
    rows = conn.execute(select(cp.c.name, cp.c.signature)).all()
    return {str(name): str(signature or "") for name, signature in rows}
