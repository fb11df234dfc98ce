"""Where a dispatch spends its time (SQLite on /dev/shm: CPU only).

Prints the SQL statements one dispatch runs (driver trace), the CPU per dispatch, the CPU
of each phase of the command path (the main thread's, measured by wrapping the phase's
function; each phase's own time, its nested phases taken out, so the column adds up to the
total; the wrapping itself costs ≈ 0.2 µs per wrapped call, counted in its caller) and, with
`--profile`, the top functions of a cProfile run. `--domain shipping` profiles the shipping
example's commands instead of a bank `DepositMoney`.

    python benchmarks/prof_dispatch.py [--commands 3000] [--domain bank|shipping] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.pool import Pool

if __package__ in (None, ""):
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from incident_core import Application
from incident_core.domain import Aggregate
from incident_core.engine import (
    aggregate_snapshots,
    application,
    committing,
    deciding,
    group_commit,
    lineage,
    listeners,
    projector,
    recording,
    unit,
)
from incident_core.messages import Command
from incident_core.projections import definition
from incident_core.store.sql import (
    checkpoint_writes,
    core,
    projection_rows,
    queries,
    sqlite,
    store,
    transaction,
    writer_cache,
)

# (owner, attribute, phase): the phases, by what they do (a phase may wrap several
# functions; each function's own time goes to its phase)
PHASES: list[tuple[Any, str, str]] = [
    (application.Application, "dispatch_here", "dispatch glue (ids, metadata, plan)"),
    (application.Application, "_attempt", "dispatch glue (ids, metadata, plan)"),
    (deciding.Decider, "target", "dispatch glue (ids, metadata, plan)"),
    (application, "new_id", "ids (first event = command id; events 2..n)"),
    (recording, "new_id", "ids (first event = command id; events 2..n)"),
    (deciding.Decider, "load", "load (state from the cache)"),
    (deciding.StateCache, "get", "load (state from the cache)"),
    (committing.Plan, "decide", "decide glue"),
    (deciding.Decider, "decide", "decide glue"),
    (Aggregate, "execute", "execute (domain code, event models)"),
    (recording, "pending_events", "encode glue (time, pending events)"),
    (recording, "_meta_json", "metadata JSON"),
    (recording, "_encode", "encode event data (checked JSON)"),
    (recording, "_roundtrip", "decode the event back"),
    (Aggregate, "fold", "fold the new state (domain apply)"),
    (committing, "commit", "commit glue (group commit, transaction)"),
    (group_commit.GroupCommit, "run", "commit glue (group commit, transaction)"),
    (group_commit.GroupCommit, "_alone", "commit glue (group commit, transaction)"),
    (store.SqlEventStore, "_writer_connection", "commit glue (group commit, transaction)"),
    (transaction.SqlTransaction, "__init__", "commit glue (group commit, transaction)"),
    (transaction.SqlTransaction, "end", "commit glue (group commit, transaction)"),
    (sqlite.SqliteDialect, "begin_write", "SQL: BEGIN IMMEDIATE"),
    (sqlite.SqliteDialect, "data_version", "SQL: PRAGMA data_version"),
    (committing, "record_command", "record glue (unit, idempotency)"),
    (unit.Unit, "__init__", "record glue (unit, idempotency)"),
    (unit.Unit, "write", "record glue (unit, idempotency)"),
    (unit.Unit, "record", "record glue (unit, idempotency)"),
    (transaction.SqlTransaction, "memory", "writer cache, head, checkpoints"),
    (transaction.SqlTransaction, "_from_cache", "writer cache, head, checkpoints"),
    (transaction.SqlTransaction, "head", "writer cache, head, checkpoints"),
    (transaction.SqlTransaction, "checkpoint", "writer cache, head, checkpoints"),
    (transaction.SqlTransaction, "set_checkpoint", "writer cache, head, checkpoints"),
    (transaction.SqlTransaction, "append", "event rows (append, stream entry)"),
    (core.SqlStoreCore, "row_of", "event rows: slim row + checksum"),
    (aggregate_snapshots, "save_if_due", "snapshot check"),
    (unit.Unit, "finish", "projection glue (finish, project)"),
    (unit.Unit, "project", "projection glue (finish, project)"),
    (unit.Unit, "_write_rows", "projection glue (finish, project)"),
    (lineage, "trail_of", "projection glue (finish, project)"),
    (lineage, "written", "projection glue (finish, project)"),
    (projector.ProjectionRun, "__init__", "projection glue (finish, project)"),
    (projector.ProjectionRun, "fold", "projection glue (finish, project)"),
    (projector.ProjectionRun, "apply", "projection glue (finish, project)"),
    (unit.Unit, "_write_row", "projection glue (finish, project)"),
    (projector, "single_step", "projection glue (finish, project)"),
    (projector.SingleStep, "fold", "projection step (handler in line, snapshot)"),
    (definition.RowBuffer, "prefetch", "projection glue (finish, project)"),
    (definition.RowBuffer, "apply", "projection glue (finish, project)"),
    (projection_rows, "get_rows", "projection row: read (memory)"),
    (definition.Projection, "folded", "projection row: validate stored row"),
    (definition.Projection, "apply", "projection handler (domain code)"),
    (definition.RowBuffer, "changes", "projection row: dump"),
    (definition.Projection, "stored", "projection row: dump"),
    (definition.Projection, "kept", "projection row: check"),
    (projection_rows, "put_rows", "projection row: upsert glue, remember"),
    (writer_cache.Changes, "put_row", "projection row: upsert glue, remember"),
    (transaction.SqlTransaction, "flush", "flush glue"),
    (transaction.SqlTransaction, "_write_events", "flush glue"),
    (checkpoint_writes.Checkpoints, "settle", "checkpoint settle"),
    (queries.Prepared, "run_many", "SQL: upserts and inserts"),
    (queries.Prepared, "run", "SQL: upserts and inserts"),
    (transaction.SqlTransaction, "cache_entry", "writer cache, head, checkpoints"),
    (transaction.SqlTransaction, "commit", "SQL: COMMIT"),
    (writer_cache.Changes, "merged", "writer cache, head, checkpoints"),
    (sqlite.SqliteDialect, "after_commit", "WAL checkpoint check"),
    (unit.Unit, "publish", "publish (cache, listeners, telemetry)"),
    (deciding.StateCache, "put", "publish (cache, listeners, telemetry)"),
    (listeners.Listeners, "notify", "publish (cache, listeners, telemetry)"),
]


class PhaseClock:
    """Each wrapped function's own time, by phase: the CPU time of the one thread
    (`thread_time_ns`, a system call, so the wrapping costs about as much as a small phase:
    what it adds inside a call and around it is calibrated on an empty function and taken
    out, so the phases add up to about the unwrapped CPU per dispatch)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._children = [0.0]  # per open call: what its nested wrapped calls took
        self.inside = self.outside = 0.0
        self.inside, self.outside = self._calibrate()

    def wrap(self, owner: Any, name: str, label: str) -> Callable[[], None]:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, self.wrapped(original, label))
        return lambda: setattr(owner, name, original)

    def wrapped(self, original: Callable[..., Any], label: str) -> Callable[..., Any]:
        clock, spent, calls, children = (time.thread_time_ns, self.spent, self.calls,
                                         self._children)
        inside, outside = self.inside, self.outside

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            children.append(0.0)
            start = clock()
            try:
                return original(*args, **kwargs)
            finally:
                took = clock() - start
                inner = children.pop()
                children[-1] += took + outside
                spent[label] = spent.get(label, 0.0) + took - inner - inside
                calls[label] = calls.get(label, 0) + 1

        return wrapper

    def _calibrate(self) -> tuple[float, float]:
        """(what the clock adds inside a wrapped call, what the wrapping adds around it)."""
        def nothing() -> None:
            return None

        inner = self.wrapped(nothing, "inner")
        outer = self.wrapped(lambda: [inner() for _ in range(100)], "outer")
        bare = self.wrapped(lambda: [nothing() for _ in range(100)], "bare")
        insides, outsides = [], []
        for _ in range(300):
            self.spent.clear()
            outer()
            bare()
            insides.append(self.spent["inner"] / 100)
            outsides.append((self.spent["outer"] - self.spent["bare"]) / 100)
        self.spent.clear()
        self.calls.clear()
        return sorted(insides)[len(insides) // 2], sorted(outsides)[len(outsides) // 2]


def bank_commands(app: Application, count: int) -> Iterator[Command]:
    from incident_core.examples.bank import DepositMoney, OpenAccount

    ids = [f"acc-{i}" for i in range(20)]
    for key in ids:
        app.dispatch(OpenAccount(aggregate_id=key))
    for j in range(count):
        yield DepositMoney(aggregate_id=ids[j % 20], amount=1)


def shipping_commands(app: Application, count: int) -> Iterator[Command]:
    """The shipping demo's commands (vessels, then bookings, some moved on: its booking
    saga runs after each booking, its failures parked)."""
    import random

    from incident_core.examples.shipping import domain

    assert domain.demo is not None
    for batch in domain.demo(random.Random(7), 20, count):
        yield from batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=3000)
    ap.add_argument("--domain", choices=("bank", "shipping"), default="bank")
    ap.add_argument("--profile", action="store_true", help="also print a cProfile top 30")
    args = ap.parse_args()
    statements: list[str] = []
    tracing = [False]

    def on_connect(conn: Any, _record: Any) -> None:
        if isinstance(conn, sqlite3.Connection):
            conn.set_trace_callback(lambda s: statements.append(s) if tracing[0] else None)

    sa_event.listen(Pool, "connect", on_connect)
    folder = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    if args.domain == "bank":
        from incident_core.examples.bank import domain
        make = bank_commands
    else:
        from incident_core.examples.shipping import domain
        make = shipping_commands
    app = Application.open(os.path.join(folder, "prof.sqlite3"), domain, create=True)
    n = args.commands
    commands = list(islice(make(app, 400 + 3 * n), 400 + 3 * n))
    for command in commands[:399]:
        app.dispatch(command)
    tracing[0] = True
    app.dispatch(commands[399])
    tracing[0] = False
    print(f"SQL statements of one dispatch ({type(commands[399]).__name__}): {len(statements)}")
    for text in statements:
        print("   ", " ".join(text.split())[:110])
    start = time.process_time()
    for command in commands[400:400 + n]:
        app.dispatch(command)
    print(f"CPU per dispatch: {(time.process_time() - start) / n * 1e6:.1f} µs "
          f"(load average {os.getloadavg()[0]:.2f})")
    clock = PhaseClock()
    undo = [clock.wrap(owner, name, label) for owner, name, label in PHASES]
    projector.forget_steps()  # compiled again from the wrapped methods
    start_ns = time.thread_time_ns()
    for command in commands[400 + n:400 + 2 * n]:
        app.dispatch(command)
    total = (time.thread_time_ns() - start_ns) / n / 1000
    for restore in reversed(undo):
        restore()
    projector.forget_steps()
    print(f"phases (own CPU µs per dispatch; wrapped run: {total:.1f} in all, "
          f"{clock.inside + clock.outside:.0f} ns per wrapped call taken out)")
    labels = list(dict.fromkeys(label for _, _, label in PHASES))
    for label in labels:
        print(f"    {label:44s} {clock.spent.get(label, 0) / n / 1000:6.1f} "
              f"{clock.calls.get(label, 0) / n:5.1f} calls")
    wrapping = sum(clock.calls.values()) * (clock.inside + clock.outside) / n / 1000
    rest = total - sum(clock.spent.values()) / n / 1000 - wrapping
    print(f"    {'outside every phase (the loop, Accepted)':44s} {rest:6.1f}")
    print(f"    {'(the wrapping itself)':44s} {wrapping:6.1f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for command in commands[400 + 2 * n:]:
            app.dispatch(command)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    app.close()
    shutil.rmtree(folder, ignore_errors=True)
    sa_event.remove(Pool, "connect", on_connect)


if __name__ == "__main__":
    main()
