#!/usr/bin/env python3
"""The same workloads on SQLite and on PostgreSQL, against the raw sqlite3 baseline, in ONE run.

    python benchmarks/bench_sqlite_vs_postgres.py [--events N] [--commands N] [--reps R]
                                                  [--json out.json]

Starts its own throwaway PostgreSQL server (tests/pg_server.PostgresServer: a private cluster
on 127.0.0.1, TCP, fsync and synchronous_commit on, i.e. as durable as SQLite's FULL) and
stops it at the end. Every repetition uses fresh stores; figures are the best of --reps.

Workloads (the ones of benchmarks/bench_core.py, so the raw ids mean the same):
  dispatch  Application.dispatch(DepositMoney), one durable transaction each   vs a2
  import    Application.import_events in batches (projections included)         vs a1
  replay    store.iter_events() -> RecordedEvent with decoded data               vs a3
  wake-up   how long after a commit another store's wait_for_change() returns
            (SQLite: polling every 0.1 s; PostgreSQL: LISTEN/NOTIFY)
  writers   PostgreSQL only (issue 11: >= 2,000/s single, >= 6,000 events/s at 8 writers):
            one writer; --writers threads of one Application, group commit off and on;
            --writers processes (each its own Application and connection). Each writer
            deposits into its own account, one durable command (one event) at a time;
            min / median / max over --reps, the cases interleaved in each repetition;
            with the ratio to raw psycopg on as many connections, the server's WAL
            flushes per command (pg_stat_wal) and group commit's commands per commit.
A ratio is Incident's events/s divided by the raw sqlite3 events/s of the same workload in the
same run (1.0 = as fast as hand-written SQL on the stdlib driver); "PG/SQLite" divides the
PostgreSQL figure by the SQLite one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `tests` importable
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchmarks._baseline import (
    DDL,
    STREAM_LEN,
    amount_for,
    bulk_dataset,
    now_iso,
    per_command_dataset,
    raw_a2,
    raw_connect,
)
from benchmarks.bench_core import (
    Results,
    bank_envelopes,
    chunks,
    dispatch_all,
    replay,
    run_raw,
    timed,
    versions,
)
from benchmarks.pg_writers import run_writers
from incident_core import Application, RecordedEvent, open_store
from incident_core.examples.bank import DepositMoney, OpenAccount, domain
from tests.pg_server import PostgresServer

BACKENDS = ("sqlite", "postgres")
RAW_OF = {"dispatch": "a2", "import": "a1", "replay": "a3"}


class Targets:
    """Fresh store targets: a file in a temp dir, or a new database on the private server."""

    def __init__(self, base: str, server: PostgresServer) -> None:
        self.base = base
        self.server = server

    def fresh(self, backend: str) -> str:
        if backend == "sqlite":
            return os.path.join(tempfile.mkdtemp(prefix="sqlite_", dir=self.base), "s.sqlite3")
        return self.server.create_database(f"bench_{uuid.uuid4().hex[:12]}")

    def drop(self, target: str) -> None:
        if "://" in target:
            self.server.drop_database(target.rsplit("/", 1)[1])
        else:
            shutil.rmtree(os.path.dirname(target), ignore_errors=True)


def raw_durable(res: Results, n_cmd: int, base: str) -> None:
    """a2: raw sqlite3, one durable transaction per event (bench_core now runs it with its
    interleaved dispatch, not in run_raw)."""
    folder = tempfile.mkdtemp(prefix="raw_a2_", dir=base)
    conn = raw_connect(os.path.join(folder, "events.db"), "FULL")
    conn.execute(DDL)
    dataset = per_command_dataset(n_cmd)
    wall, cpu, _ = timed("a2", lambda: raw_a2(conn, dataset))
    res.add("a2", "raw insert, 1 durable txn per event", "raw", n_cmd, wall, cpu)
    conn.close()
    shutil.rmtree(folder, ignore_errors=True)


def import_batches(app: Application, envelopes: list[dict[str, Any]], batch: int) -> None:
    """The core API itself (Application.import_events), one transaction per batch."""
    for part in chunks(envelopes, batch):
        app.import_events(part)


def bulk_cases(res: Results, targets: Targets, backend: str, n: int, batch: int) -> None:
    target = targets.fresh(backend)
    with Application.open(target, domain, create=True) as app:
        envelopes = bank_envelopes(bulk_dataset(n), now_iso())
        wall, cpu, _ = timed("import", lambda: import_batches(app, envelopes, batch))
        assert app.store.event_count() == n
        res.add(f"import/{backend}", f"import, batches of {batch}", backend, n, wall, cpu,
                ratio_to="a1")
        wall, cpu, out = timed("replay", lambda: replay(app))
        assert len(out) == n
        res.add(f"replay/{backend}", "replay: iter_events", backend, n, wall, cpu,
                ratio_to="a3")
    targets.drop(target)


def dispatch_case(res: Results, targets: Targets, backend: str, n_cmd: int) -> None:
    target = targets.fresh(backend)
    with Application.open(target, domain, create=True) as app:
        streams = max(1, n_cmd // STREAM_LEN)
        ids = [uuid.uuid4().hex for _ in range(streams)]
        app.dispatch_many([OpenAccount(aggregate_id=i) for i in ids])
        commands = [DepositMoney(aggregate_id=ids[j % streams], amount=amount_for(j // streams))
                    for j in range(n_cmd)]
        wall, cpu, _ = timed("dispatch", lambda: dispatch_all(app, commands))
        res.add(f"dispatch/{backend}", f"dispatch, {streams} accounts", backend, n_cmd, wall,
                cpu, ratio_to="a2")
    targets.drop(target)


def wake_up_latencies(targets: Targets, backend: str, commits: int) -> list[float]:
    """Seconds from each commit (as its application's listener sees it) until a follower
    on another store, blocked in wait_for_change, returns with the new head."""
    target = targets.fresh(backend)
    committed: dict[int, float] = {}
    woken: dict[int, float] = {}
    with Application.open(target, domain, create=True) as app, \
            open_store(target, read_only=True) as follower:
        app.dispatch(OpenAccount(aggregate_id="A"))

        def on_commit(events: list[RecordedEvent]) -> None:
            committed[events[-1].position] = time.perf_counter()

        app.subscribe(on_commit)
        done = threading.Event()

        def follow() -> None:
            known = follower.head()
            while not done.is_set():
                head = follower.wait_for_change(known, timeout=0.5)
                if head != known:
                    woken[head] = time.perf_counter()
                    known = head

        thread = threading.Thread(target=follow)
        thread.start()
        time.sleep(0.3)
        for k in range(commits):
            app.dispatch(DepositMoney(aggregate_id="A", amount=1))
            time.sleep(0.03 + 0.04 * (k % 3) / 2)  # spread over the polling phase
        time.sleep(0.3)
        done.set()
        thread.join()
    targets.drop(target)
    return [woken[p] - committed[p] for p in committed if p in woken]


def print_table(res: Results, latency: dict[str, list[float]], meta: dict[str, Any]) -> None:
    cases = res.cases
    print(f"\nSQLite vs PostgreSQL  events={meta['events']}  commands={meta['commands']}  "
          f"best of {meta['reps']}  (python {meta['versions']['python']}, "
          f"sqlite {meta['versions']['sqlite3_lib']}, {meta['postgres']})")
    header = (f"{'workload':9} {'events':>7} {'raw sqlite3/s':>14} {'SQLite/s':>10} "
              f"{'ratio':>6} {'PostgreSQL/s':>13} {'ratio':>6} {'PG/SQLite':>9}")
    print(header)
    print("-" * len(header))
    for work, raw_id in RAW_OF.items():
        raw, lite, pg = cases[raw_id], cases[f"{work}/sqlite"], cases[f"{work}/postgres"]
        print(f"{work:9} {lite.events:>7} {raw.events_per_s:>14,.0f} "
              f"{lite.events_per_s:>10,.0f} {lite.ratio or 0:>6.3f} "
              f"{pg.events_per_s:>13,.0f} {pg.ratio or 0:>6.3f} "
              f"{pg.events_per_s / lite.events_per_s:>9.2f}")
    lite_ms = [1000 * x for x in latency["sqlite"]]
    pg_ms = [1000 * x for x in latency["postgres"]]
    print(f"{'wake-up':9} {len(pg_ms):>7} {'':>14} "
          f"{statistics.median(lite_ms):>8.1f}ms {'':>6} {statistics.median(pg_ms):>11.1f}ms "
          f"{'':>6} {'(median)':>9}")
    print(f"wake-up max: SQLite {max(lite_ms):.1f} ms, PostgreSQL {max(pg_ms):.1f} ms; "
          f"loadavg start={meta['loadavg_start']} end={meta['loadavg_end']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000,
                    help="events for import / replay (default 20000, >= 1000)")
    ap.add_argument("--commands", type=int, default=1_000,
                    help="commands for dispatch, events for a2 (default 1000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions, best taken (default 3)")
    ap.add_argument("--import-batch", type=int, default=5_000,
                    help="envelopes per import call (default 5000)")
    ap.add_argument("--commits", type=int, default=30,
                    help="commits timed for the wake-up latency (default 30)")
    ap.add_argument("--writers", type=int, default=8,
                    help="concurrent PostgreSQL writers (threads, processes; default 8)")
    ap.add_argument("--writer-commands", type=int, default=250,
                    help="commands per concurrent writer (default 250)")
    ap.add_argument("--only-writers", action="store_true",
                    help="run the PostgreSQL writers cases only")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    if args.events < 1000 or args.commands < 1 or args.reps < 1 or args.commits < 1:
        ap.error("--events >= 1000; --commands, --reps and --commits positive")
    return args


def run(args: argparse.Namespace, base: str, server: PostgresServer) -> None:
    res = Results()
    targets = Targets(base, server)
    if args.only_writers:
        run_writers(args, targets)
        return
    runners: list[Callable[[], None]] = [
        partial(run_raw, res, args.events, args.commands, base, "FULL", {}),
        partial(raw_durable, res, args.commands, base),
        *(partial(bulk_cases, res, targets, b, args.events, args.import_batch)
          for b in BACKENDS),
        *(partial(dispatch_case, res, targets, b, args.commands) for b in BACKENDS),
    ]
    meta: dict[str, Any] = {
        "events": args.events, "commands": args.commands, "reps": args.reps,
        "versions": versions(), "postgres": server_version(server),
        "loadavg_start": tuple(round(x, 2) for x in os.getloadavg())}
    for rep in range(args.reps):
        print(f"rep {rep + 1}/{args.reps} ...", file=sys.stderr, flush=True)
        # Rotate the order, so a slow spell on a shared machine does not hit one side only.
        for runner in runners[rep % len(runners):] + runners[:rep % len(runners)]:
            runner()
    res.finalize()
    print("wake-up latency ...", file=sys.stderr, flush=True)
    latency = {b: wake_up_latencies(targets, b, args.commits) for b in BACKENDS}
    meta["loadavg_end"] = tuple(round(x, 2) for x in os.getloadavg())
    print_table(res, latency, meta)
    writers = run_writers(args, targets)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "cases": [c.__dict__ for c in res.cases.values()],
                       "wake_up_s": latency, "writers_events_per_s": writers}, f, indent=2)
        print(f"wrote {args.json}")


def server_version(server: PostgresServer) -> str:
    with psycopg.connect(server.conninfo()) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = tempfile.mkdtemp(prefix="incident_bench_pg_")
    server = PostgresServer()
    try:
        server.start()
        run(args, base, server)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
