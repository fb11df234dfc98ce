"""Parked saga steps in SQL: the `incident_parked` table, created on first use in stores made
before it existed (so no schema-version bump is needed), read as empty while absent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select

from incident_core.process import ParkedStep
from incident_core.store.sql import schema
from incident_core.store.sql.dialect import Dialect
from incident_core.store.sql.queries import has_table

__all__ = ["park", "parked", "parked_steps", "unpark"]

P = schema.parked
_KEY = ("process_manager", "position")


def _step(row: Any) -> ParkedStep:
    return ParkedStep(**dict(row._mapping))


def park(conn: Connection, dialect: Dialect, step: ParkedStep) -> None:
    P.create(conn, checkfirst=True)
    conn.execute(dialect.upsert(P, _KEY), step.to_json())


def unpark(conn: Connection, process_manager: str, position: int) -> None:
    if has_table(conn, P.name):
        conn.execute(delete(P).where(P.c.process_manager == process_manager,
                                     P.c.position == position))


def parked(conn: Connection, process_manager: str, position: int) -> ParkedStep | None:
    if not has_table(conn, P.name):
        return None
    row = conn.execute(select(P).where(P.c.process_manager == process_manager,
                                       P.c.position == position)).first()
    return None if row is None else _step(row)


def parked_steps(conn: Connection, *, include_skipped: bool = False,
                 process_manager: str | None = None) -> list[ParkedStep]:
    if not has_table(conn, P.name):
        return []
    stmt = select(P).order_by(P.c.process_manager, P.c.position)
    if not include_skipped:
        stmt = stmt.where(P.c.status == "parked")
    if process_manager is not None:
        stmt = stmt.where(P.c.process_manager == process_manager)
    return [_step(row) for row in conn.execute(stmt)]
