"""What an import costs before any Python per event, in today's schema: two floors for
`bench_import.py` (cases `log_rows` and `log_sql`), to say what a ratio to raw `a1` of 0.35
or 0.6 would need.

* `log_rows`: the import's event rows, already built (`store.sql.import_rows.event_rows`,
  not timed), written with one executemany into a fresh store's `incident_events` (its
  unique and secondary indexes), one transaction. No checks, streams, projections, lineage.
* `log_deferred`: `log_rows` with the events table's named indexes (its guards and secondary
  indexes, on a store made by this code) dropped first and built again before the commit,
  in the same transaction: what a large import into an empty store does with them.
* `log_sql`: the log written by SQLite alone from the raw NDJSON lines: the lines copied
  into a temporary table, versions checked contiguous by a window query, then one
  INSERT ... SELECT with SQLite's JSON functions (3.38+). No checksum, no data decode, no
  streams, projections or lineage: a lower bound, not an import.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from benchmarks._baseline import raw_connect
from benchmarks.bench_core import fresh_app, timed
from incident_core.store.sql.import_rows import event_rows

__all__ = ["FLOORS", "run_floor"]

FLOORS = ("log_rows", "log_deferred", "log_sql")
_COLUMNS = ("position", "recorded_at", "checksum", "version", "schema_version", "event_id",
            "aggregate_id", "aggregate_type", "event_type", "command_id", "causation_id",
            "correlation_id", "command_type", "data", "metadata")
_INSERT = (f"INSERT INTO incident_events ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join(':' + c for c in _COLUMNS)})")
_TIME = "j->>'recorded_at'"
_FROM_LINES = f"""
INSERT INTO incident_events ({', '.join(_COLUMNS)})
SELECT n, unixepoch(substr({_TIME}, 1, 19)) * 1000000 + CAST(substr({_TIME}, 21, 6) AS INTEGER),
  NULL, j->>'version', coalesce(j->>'schema_version', 1), j->>'event_id', j->>'aggregate_id',
  j->>'aggregate_type', j->>'event_type',
  NULLIF(j->>'$.metadata.command_id', j->>'event_id'),
  NULLIF(j->>'$.metadata.causation_id', j->>'$.metadata.command_id'),
  NULLIF(j->>'$.metadata.correlation_id', j->>'$.metadata.causation_id'),
  j->>'$.metadata.command_type', json(j->'data'),
  json_remove(j->'metadata', '$.command_id', '$.causation_id', '$.correlation_id',
              '$.command_type')
FROM (SELECT n, line AS j FROM temp.lines)"""
_GAPS = """
SELECT count(*) FROM (
  SELECT j->>'version' AS v, lag(j->>'version') OVER (PARTITION BY j->>'aggregate_id'
                                                     ORDER BY n) AS p
  FROM (SELECT n, line AS j FROM temp.lines))
WHERE (p IS NULL AND v != 1) OR (p IS NOT NULL AND v != p + 1)"""


def run_floor(case: str, envelopes: list[dict[str, Any]], base: str,
              sync: str) -> tuple[float, float, str]:
    """(wall s, CPU s, the store's directory) of one floor case on a fresh store."""
    app, d = fresh_app(base, f"{case}_", sync)
    path = str(app.store.target)
    app.close()
    conn = raw_connect(path, sync)
    conn.execute("PRAGMA cache_size = -65536")  # as the store's writer has it
    if case in ("log_rows", "log_deferred"):
        rows = event_rows(envelopes, 1)[0]
        write = _write_rows if case == "log_rows" else _write_deferred
        wall, cpu, _ = timed(case, lambda: write(conn, rows))
    else:
        lines = [json.dumps(e, separators=(",", ":")) for e in envelopes]
        wall, cpu, _ = timed(case, lambda: _write_lines(conn, lines))
    count = conn.execute("SELECT count(*) FROM incident_events").fetchone()[0]
    conn.close()
    assert count == len(envelopes), (case, count)
    return wall, cpu, d


def _write_rows(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(_INSERT, rows)
    conn.execute("COMMIT")


def _write_deferred(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                           "AND tbl_name = 'incident_events' AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")  # names read from the schema itself
    conn.executemany(_INSERT, rows)
    for _, sql in sorted(indexes, key=lambda i: "UNIQUE" not in i[1]):  # the guards first
        conn.execute(sql)
    conn.execute("COMMIT")


def _write_lines(conn: sqlite3.Connection, lines: list[str]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TEMP TABLE lines (n INTEGER PRIMARY KEY, line TEXT NOT NULL)")
    conn.executemany("INSERT INTO temp.lines (line) VALUES (?)", ((x,) for x in lines))
    gaps = conn.execute(_GAPS).fetchone()[0]
    if gaps:
        conn.execute("ROLLBACK")
        raise AssertionError(f"{gaps} version gaps in the benchmark's own lines")
    conn.execute(_FROM_LINES)
    conn.execute("COMMIT")

