"""Saga decisions in SQL: the `incident_saga_outcomes` table (rejected commands of saga
steps), created on first write in stores made before it existed (so no schema-version bump
is needed), read as empty while absent."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from incident_core.process import SagaOutcome
from incident_core.store.sql import schema
from incident_core.store.sql.queries import has_table

__all__ = ["record", "saga_outcomes"]

S = schema.saga_outcomes


def record(conn: Connection, outcome: SagaOutcome) -> None:
    S.create(conn, checkfirst=True)
    conn.execute(insert(S), outcome.to_json())


def saga_outcomes(conn: Connection, correlation_id: str) -> list[SagaOutcome]:
    if not has_table(conn, S.name):
        return []
    stmt = select(*(S.c[name] for name in SagaOutcome.__slots__)).where(
        S.c.correlation_id == correlation_id).order_by(S.c.id)
    return [SagaOutcome(**dict(row._mapping)) for row in conn.execute(stmt)]
