#!/usr/bin/env python3
"""Group commit and snapshots, measured in one run.

    python benchmarks/bench_write.py [--reps 5] [--threads 8] [--commands 60] [--dir DIR]

1. 8 writer threads, each depositing into its own bank account, one durable command at a
   time on a file-backed SQLite store (WAL, synchronous=FULL) in --dir (default: a temp dir
   under the current directory, i.e. the real disk and its fsync). Group commit off vs on,
   interleaved in blocks (the order alternates per repetition) so swings of the disk's fsync
   hit both sides alike. Figures: commands/s (one event each), and the mean batch size.
2. Cold load of a 1,000 and a 10,000-event account: `Application.state()` from a fresh
   Application (empty cache) without snapshots and with `snapshot_every=100`, against raw
   sqlite3 reading and JSON-decoding the same rows. Flat in history length is the target.
3. The cost of taking snapshots in the write transaction: one writer on tmpfs (CPU only),
   µs per dispatch with snapshots off, every 100 events and every event.
Every figure is min / median / max over --reps (a first, uncounted load warms up the
process: imports, compiled statements; the OS page cache is warm for all three).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from incident_core import Application, Domain
from incident_core.domain import Aggregate
from incident_core.examples import bank
from incident_core.examples.bank.accounts import DepositMoney, OpenAccount
from incident_core.store.open import open_store


def snapshotting(every: int) -> Domain:
    account: Aggregate[Any] = Aggregate("Account", bank.account.initial_state,
                                        snapshot_every=every)
    account._executors.update(bank.account._executors)
    account._appliers.update(bank.account._appliers)
    d = bank.domain
    return Domain(d.name, aggregates=[account, bank.transfer],
                  projections=list(d.projections.values()),
                  process_managers=list(d.process_managers.values()))


SNAPSHOTS = snapshotting(100)


def spread(values: list[float]) -> str:
    return (f"{min(values):>10,.1f} {statistics.median(values):>10,.1f} "
            f"{max(values):>10,.1f}")


def writers(folder: Path, threads: int, commands: int, group: bool) -> tuple[float, float]:
    """(commands/s, mean batch size) of `threads` threads dispatching concurrently."""
    db = folder / f"w-{group}-{time.monotonic_ns()}.sqlite3"
    store = open_store(str(db), create=True)
    app = Application(store, bank.domain, group_commit=group)
    for n in range(threads):
        app.dispatch(OpenAccount(aggregate_id=f"acc-{n}"))
    start = threading.Barrier(threads + 1)

    def work(n: int) -> None:
        start.wait()
        for _ in range(commands):
            assert app.dispatch(DepositMoney(aggregate_id=f"acc-{n}", amount=1)).ok

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - began
    grouped = app.group_commit
    batch = (grouped.writes - threads) / max(grouped.batches - threads, 1) if grouped else 1.0
    app.close()
    return threads * commands / seconds, batch


def seed(db: Path, events: int) -> None:
    """One account with `events` events (snapshots every 100 taken as they are written)."""
    with Application.open(str(db), SNAPSHOTS, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="big"))
        for start in range(1, events, 1000):
            app.dispatch_many([DepositMoney(aggregate_id="big", amount=1)
                               for _ in range(min(1000, events - start))])


def timed(fn: Callable[[], Any]) -> float:
    began = time.perf_counter()
    fn()
    return (time.perf_counter() - began) * 1000


def cold_loads(db: Path) -> dict[str, float]:
    def raw() -> None:
        conn = sqlite3.connect(db)
        rows = conn.execute("SELECT data FROM incident_events WHERE aggregate_id = ? "
                            "ORDER BY version", ("big",)).fetchall()
        [json.loads(r[0]) for r in rows]
        conn.close()

    out = {"raw sqlite3": timed(raw)}
    for label, domain in (("no snapshots", bank.domain), ("snapshot_every=100", SNAPSHOTS)):
        store = open_store(str(db))
        app = Application(store, domain)
        out[label] = timed(lambda app=app: app.state("big"))  # type: ignore[misc]
        app.close()
    return out


def dispatch_cost(folder: Path, domain: Domain, commands: int) -> float:
    """µs per command of one writer (the snapshot, when due, in the same transaction)."""
    store = open_store(str(folder / f"d-{time.monotonic_ns()}.sqlite3"), create=True)
    app = Application(store, domain)
    app.dispatch(OpenAccount(aggregate_id="one"))
    began = time.perf_counter()
    for _ in range(commands):
        app.dispatch(DepositMoney(aggregate_id="one", amount=1))
    seconds = time.perf_counter() - began
    app.close()
    return seconds / commands * 1e6


def snapshot_costs(reps: int, commands: int) -> None:
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="bench-write-", dir=shm if shm.is_dir() else None))
    cases = {"no snapshots": bank.domain, "snapshot_every=100": SNAPSHOTS,
             "snapshot_every=1": snapshotting(1)}
    found: dict[str, list[float]] = {label: [] for label in cases}
    try:
        for rep in range(reps):
            for label in (list(cases) if rep % 2 == 0 else list(reversed(cases))):
                found[label].append(dispatch_cost(folder, cases[label], commands))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"one writer, store on {folder.parent} (CPU cost), µs per dispatch     min"
          "     median        max")
    for label, values in found.items():
        print(f"  {label:<22}          {spread(values)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--commands", type=int, default=60)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-write-", dir=args.dir or Path.cwd()))
    try:
        runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for rep in range(args.reps):
            for group in ((False, True) if rep % 2 == 0 else (True, False)):
                runs[group].append(writers(folder, args.threads, args.commands, group))
        print(f"{args.threads} writer threads x {args.commands} commands, SQLite FULL on "
              f"{folder.parent}           min     median        max")
        for group in (False, True):
            print(f"  group commit {'on ' if group else 'off'}  commands/s   "
                  f"{spread([r[0] for r in runs[group]])}   mean batch "
                  f"{statistics.median(r[1] for r in runs[group]):.1f}")
        for events in (1_000, 10_000):
            db = folder / f"load-{events}.sqlite3"
            seed(db, events)
            cold_loads(db)  # once, not counted: imports, statements compiled, first reads
            loads = [cold_loads(db) for _ in range(args.reps)]
            print(f"cold load of a {events:,}-event aggregate, ms        min     median"
                  "        max")
            for label in loads[0]:
                print(f"  {label:<22}          {spread([x[label] for x in loads])}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    snapshot_costs(args.reps, 500)


if __name__ == "__main__":
    main()
