"""Where a bank `DepositMoney` dispatch spends its time (SQLite on /dev/shm: CPU only).

Prints the SQL statements one dispatch runs (driver trace), the CPU per dispatch, the CPU
of each phase of the command path (the main thread's, measured by wrapping the phase's
function, so the figures include a little wrapping overhead) and, with `--profile`, the
top functions of a cProfile run.

    python benchmarks/prof_dispatch.py [--commands 3000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sqlite3
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.pool import Pool

from incident_core import Application
from incident_core.engine import committing, deciding, unit
from incident_core.examples.bank import DepositMoney, OpenAccount, domain
from incident_core.store.sql import sqlite, transaction, transaction_roles

PHASES: list[tuple[Any, str, str]] = [
    (deciding.Decider, "load", "load (state from the cache)"),
    (committing.Plan, "decide", "decide (execute, encode, decode)"),
    (sqlite.SqliteDialect, "begin_write", "BEGIN IMMEDIATE"),
    (committing, "record_command", "record_command (in the transaction)"),
    (transaction.SqlTransaction, "append", "  append (slim rows, checksums)"),
    (unit.Unit, "finish", "  finish (projections, checkpoints)"),
    (transaction.SqlTransaction, "get_rows", "    get_rows"),
    (transaction.SqlTransaction, "put_rows", "    put_rows"),
    (transaction_roles.SqlStoreTransaction, "record_lineage", "    record_lineage"),
    (transaction.SqlTransaction, "flush", "flush (events, stream, checkpoints)"),
    (transaction.SqlTransaction, "commit", "COMMIT"),
    (unit.Unit, "publish", "publish"),
]


def _timed(owner: Any, name: str, label: str, spent: dict[str, int]) -> Callable[[], None]:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time_ns()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0) + time.thread_time_ns() - start

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, original)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=3000)
    ap.add_argument("--profile", action="store_true", help="also print a cProfile top 30")
    args = ap.parse_args()
    statements: list[str] = []
    tracing = [False]

    def on_connect(conn: Any, _record: Any) -> None:
        if isinstance(conn, sqlite3.Connection):
            conn.set_trace_callback(lambda s: statements.append(s) if tracing[0] else None)

    sa_event.listen(Pool, "connect", on_connect)
    folder = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    app = Application.open(os.path.join(folder, "prof.sqlite3"), domain, create=True)
    ids = [f"acc-{i}" for i in range(20)]
    for key in ids:
        app.dispatch(OpenAccount(aggregate_id=key))
    commands = [DepositMoney(aggregate_id=ids[j % 20], amount=1)
                for j in range(300 + 3 * args.commands)]
    for command in commands[:300]:
        app.dispatch(command)
    tracing[0] = True
    app.dispatch(commands[300])
    tracing[0] = False
    print(f"SQL statements of one dispatch: {len(statements)}")
    for text in statements:
        print("   ", " ".join(text.split())[:110])
    n = args.commands
    start = time.process_time()
    for command in commands[301:301 + n]:
        app.dispatch(command)
    print(f"CPU per dispatch: {(time.process_time() - start) / n * 1e6:.1f} µs "
          f"(load average {os.getloadavg()[0]:.2f})")
    spent: dict[str, int] = {}
    undo = [_timed(owner, name, label, spent) for owner, name, label in PHASES]
    start_ns = time.thread_time_ns()
    for command in commands[301 + n:301 + 2 * n]:
        app.dispatch(command)
    total = (time.thread_time_ns() - start_ns) / n / 1000
    for restore in undo:
        restore()
    print(f"phases (main thread, µs per dispatch, wrapped: {total:.1f} in all)")
    for _owner, _name, label in PHASES:
        print(f"    {label:40s} {spent.get(label, 0) / n / 1000:6.1f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for command in commands[301 + 2 * n:]:
            app.dispatch(command)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    app.close()
    sa_event.remove(Pool, "connect", on_connect)


if __name__ == "__main__":
    main()
