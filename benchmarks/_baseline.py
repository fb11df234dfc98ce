"""The raw sqlite3 baseline: hand-written SQL on the stdlib driver, nothing in between.

Same schema, pragmas and workload shape as the shared peer bench
(`shared/bench/sqlite_peer_bench.py`, cases a1-a4), so ratios measured against it here can be
compared with the `eventsourcing` library's ratios there:

* position is the rowid (global order); UNIQUE(stream_id, version) is the stream index and
  the optimistic-concurrency guard;
* journal_mode=WAL, synchronous as asked (FULL by default, like Incident's default);
* writers use BEGIN IMMEDIATE ... COMMIT on a driver in autocommit mode.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "BIG_STREAM_LEN",
    "DDL",
    "STREAM_LEN",
    "Row",
    "amount_for",
    "bulk_dataset",
    "now_iso",
    "per_command_dataset",
    "pragmas",
    "raw_a1",
    "raw_a2",
    "raw_a3",
    "raw_a4",
    "raw_connect",
    "stream_layout",
]

BIG_STREAM_LEN = 1000  # the one long stream (read by a4 / loaded by `state`)
STREAM_LEN = 100  # length of every other stream

DDL = (
    "CREATE TABLE IF NOT EXISTS events ("
    "position INTEGER PRIMARY KEY, "
    "stream_id TEXT NOT NULL, "
    "version INTEGER NOT NULL, "
    "type TEXT NOT NULL, "
    "data TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL, "
    "UNIQUE (stream_id, version))"
)
INSERT_SQL = (
    "INSERT INTO events (stream_id, version, type, data, recorded_at) VALUES (?, ?, ?, ?, ?)"
)
SELECT_ALL_SQL = (
    "SELECT position, stream_id, version, type, data, recorded_at FROM events ORDER BY position"
)
SELECT_STREAM_SQL = (
    "SELECT position, stream_id, version, type, data, recorded_at "
    "FROM events WHERE stream_id = ? ORDER BY version"
)

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
encode = _ENCODER.encode
decode = json.loads

# (stream id, version, event type, data)
Row = tuple[str, int, str, dict[str, Any]]


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def amount_for(version: int) -> int:
    return (version * 7) % 1000 + 1


def stream_layout(n: int) -> list[int]:
    """Stream lengths: first one stream of 1000 events, then streams of 100."""
    first = min(BIG_STREAM_LEN, n)
    layout = [first]
    rest = n - first
    while rest > 0:
        k = min(STREAM_LEN, rest)
        layout.append(k)
        rest -= k
    return layout


def bulk_dataset(n: int) -> list[Row]:
    """`n` events written stream by stream: an opening event, then deposits."""
    out: list[Row] = []
    for i, length in enumerate(stream_layout(n)):
        sid = uuid.uuid4().hex
        out.append((sid, 1, "Opened", {"name": f"account-{i}"}))
        out.extend((sid, v, "Deposited", {"amount": amount_for(v)}) for v in range(2, length + 1))
    return out


def per_command_dataset(n: int) -> list[Row]:
    """`n` events round-robin over n // 100 streams (each event goes to another stream)."""
    s = max(1, n // STREAM_LEN)
    sids = [uuid.uuid4().hex for _ in range(s)]
    out: list[Row] = []
    for j in range(n):
        k, v = j % s, j // s + 1
        if v == 1:
            out.append((sids[k], 1, "Opened", {"name": f"account-{k}"}))
        else:
            out.append((sids[k], v, "Deposited", {"amount": amount_for(v)}))
    return out


def raw_connect(path: str, synchronous: str) -> sqlite3.Connection:
    """Driver autocommit (isolation_level=None): we issue BEGIN/COMMIT ourselves."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    return conn


def pragmas(query: Callable[[str], Any]) -> dict[str, Any]:
    """The settings in force on a connection, given a one-value query function."""
    sync = query("PRAGMA synchronous")
    return {
        "journal_mode": query("PRAGMA journal_mode"),
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(sync, sync),
        "busy_timeout_ms": query("PRAGMA busy_timeout"),
        "cache_size": query("PRAGMA cache_size"),
        "page_size": query("PRAGMA page_size"),
    }


def raw_a1(conn: sqlite3.Connection, dataset: list[Row]) -> None:
    """Bulk append: every event in one transaction, one executemany."""
    ts = now_iso()
    rows = ((sid, v, t, encode(p), ts) for sid, v, t, p in dataset)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT_SQL, rows)
    conn.execute("COMMIT")


def raw_a2(conn: sqlite3.Connection, dataset: list[Row]) -> None:
    """Per-command append: one durable transaction per event."""
    ex = conn.execute
    for sid, v, t, p in dataset:
        ex("BEGIN IMMEDIATE")
        ex(INSERT_SQL, (sid, v, t, encode(p), now_iso()))
        ex("COMMIT")


def raw_a3(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Replay: read every event in position order and decode its data."""
    out: list[dict[str, Any]] = []
    app = out.append
    conn.execute("BEGIN")
    for _pos, _sid, _v, _t, data, _rec in conn.execute(SELECT_ALL_SQL):
        app(decode(data))
    conn.execute("COMMIT")
    return out


def raw_a4(conn: sqlite3.Connection, sid: str) -> list[dict[str, Any]]:
    """Load one stream: read it in version order and decode its data."""
    out: list[dict[str, Any]] = []
    app = out.append
    conn.execute("BEGIN")
    for _pos, _sid, _v, _t, data, _rec in conn.execute(SELECT_STREAM_SQL, (sid,)):
        app(decode(data))
    conn.execute("COMMIT")
    return out
