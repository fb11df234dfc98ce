"""Every SQL statement SQLite runs, as the driver traces it (tests that count statements)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.pool import Pool


@contextmanager
def traced(statements: list[str], tracing: list[bool]) -> Iterator[None]:
    """Every SQL statement SQLite runs on the connections opened meanwhile, while
    `tracing[0]`."""
    def trace(statement: str) -> None:
        if tracing[0]:
            statements.append(statement)

    def on_connect(conn: Any, _record: Any) -> None:
        if isinstance(conn, sqlite3.Connection):
            conn.set_trace_callback(trace)

    sa_event.listen(Pool, "connect", on_connect)
    try:
        yield
    finally:
        sa_event.remove(Pool, "connect", on_connect)
