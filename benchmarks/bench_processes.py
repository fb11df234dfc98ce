#!/usr/bin/env python3
"""Writer processes on one SQLite store: taking turns on its write lock (each process commits
alone) vs one shared writer process (`Application.open(..., shared_writer=True)`: the others
forward their commands to it and they share its durable commits).

    python benchmarks/bench_processes.py [--reps 5] [--procs 8] [--commands 100] [--dir DIR]

Each process deposits into its own bank account, one durable command at a time (WAL,
synchronous=FULL), on a store in --dir (default: a temp dir under the current directory,
i.e. the real disk and its fsync). All processes open the store, then start together; the
figure is commands/s until the last one is done (one event each; a process that is done
stays open, as a long-running writer would, so the shared writer does not move mid-run).
Cases per repetition, rotated so each takes every place in the order: raw sqlite3
(`BEGIN IMMEDIATE; INSERT; COMMIT` per command in each process), Incident direct, Incident
with the shared writer; then one lone process, shared writer off vs on (a lone writer
must not pay for it). Figures are min / median / max over --reps. Last, the lone writer's
CPU cost: one process, store on tmpfs, µs per dispatch with the shared writer off vs on, in
alternating blocks of 200 dispatches (5 x --reps blocks each).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from incident_core import Application
from incident_core.examples import bank
from incident_core.examples.bank.accounts import DepositMoney, OpenAccount

RAW_TABLE = ("CREATE TABLE IF NOT EXISTS events (position INTEGER PRIMARY KEY, "
             "aggregate_id TEXT, version INTEGER, data TEXT, UNIQUE (aggregate_id, version))")


def work_raw(db: str, index: int, commands: int) -> None:
    conn = sqlite3.connect(db, isolation_level=None, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    print("ready", flush=True)
    sys.stdin.readline()
    for version in range(1, commands + 1):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO events (aggregate_id, version, data) VALUES (?, ?, ?)",
                     (f"acc-{index}", version, json.dumps({"amount": 1})))
        conn.execute("COMMIT")
    finished()
    conn.close()


def work_app(db: str, index: int, commands: int, shared: bool) -> None:
    app = Application.open(db, bank.domain, shared_writer=shared)
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(commands):
        if not app.dispatch(DepositMoney(aggregate_id=f"acc-{index}", amount=1)).ok:
            raise SystemExit("a deposit was refused")
    finished()
    app.close()


def finished() -> None:
    """Say so, and stay open (a writer that is done keeps serving the others) until told."""
    print("finished", flush=True)
    sys.stdin.readline()


def worker(argv: list[str]) -> None:
    case, db, index, commands = argv[0], argv[1], int(argv[2]), int(argv[3])
    if case == "raw":
        work_raw(db, index, commands)
    else:
        work_app(db, index, commands, case == "shared")


def prepare(folder: Path, case: str, procs: int) -> str:
    db = str(folder / f"{case}-{time.monotonic_ns()}.sqlite3")
    if case == "raw":
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(RAW_TABLE)
        conn.close()
        return db
    with Application.open(db, bank.domain, create=True) as app:
        for n in range(procs):
            app.dispatch(OpenAccount(aggregate_id=f"acc-{n}"))
    return db


def run(folder: Path, case: str, procs: int, commands: int) -> float:
    """Commands/s of `procs` processes writing one fresh store at once."""
    db = prepare(folder, case, procs)
    pool = [subprocess.Popen([sys.executable, __file__, "--worker", case, db, str(n),
                              str(commands)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True) for n in range(procs)]
    for process in pool:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    began = time.perf_counter()
    for process in pool:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in pool:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "finished":
            raise SystemExit(f"a {case} writer failed")
    seconds = time.perf_counter() - began
    for process in pool:
        process.communicate("exit\n")
    for suffix in ("", "-wal", "-shm", ".writer.lock"):
        Path(db + suffix).unlink(missing_ok=True)
    return procs * commands / seconds


def lone_cpu(folder: Path, blocks: int, size: int = 200) -> dict[bool, list[float]]:
    """µs per dispatch of one process, shared writer off vs on, store on tmpfs (no fsync to
    hide a cost), in alternating blocks of `size` dispatches."""
    shm = Path("/dev/shm")
    where = Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else folder))
    apps = {}
    for shared in (False, True):
        db = str(where / f"lone-{shared}.sqlite3")
        Application.open(db, bank.domain, create=True).close()
        apps[shared] = Application.open(db, bank.domain, shared_writer=shared)
        apps[shared].dispatch(OpenAccount(aggregate_id="acc"))
    runs: dict[bool, list[float]] = {False: [], True: []}
    try:
        for block in range(2 * blocks):
            shared = bool(block % 2) ^ bool(block // 2 % 2)  # off on on off off on ...
            began = time.perf_counter()
            for _ in range(size):
                apps[shared].dispatch(DepositMoney(aggregate_id="acc", amount=1))
            runs[shared].append((time.perf_counter() - began) / size * 1e6)
    finally:
        for app in apps.values():
            app.close()
        shutil.rmtree(where, ignore_errors=True)
    return runs


def spread(values: list[float]) -> str:
    return (f"{min(values):>9,.0f} {statistics.median(values):>9,.0f} "
            f"{max(values):>9,.0f}")


def measure(folder: Path, cases: list[tuple[str, str, int]], reps: int,
            commands: int) -> dict[str, list[float]]:
    runs: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for rep in range(reps):
        shift = rep % len(cases)
        for label, case, procs in cases[shift:] + cases[:shift]:
            runs[label].append(run(folder, case, procs, commands))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-procs-", dir=args.dir or Path.cwd()))
    procs = args.procs
    cases = [(f"raw sqlite3, {procs} processes", "raw", procs),
             (f"Incident direct, {procs} processes", "direct", procs),
             (f"Incident shared writer, {procs} processes", "shared", procs),
             ("Incident direct, 1 process", "direct", 1),
             ("Incident shared writer, 1 process", "shared", 1)]
    try:
        runs = measure(folder, cases, args.reps, args.commands)
        lone = lone_cpu(folder, blocks=5 * args.reps)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{procs} processes x {args.commands} durable commands, {args.reps} reps, "
          f"store in {folder.parent}; load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"{'case (commands/s)':<44} {'min':>9} {'median':>9} {'max':>9}")
    for label, values in runs.items():
        print(f"{label:<44} {spread(values)}")
    raw = statistics.median(runs[cases[0][0]])
    for label, values in list(runs.items())[1:3]:
        print(f"{label}: {statistics.median(values) / raw:.2f} of raw")
    direct = statistics.median(runs[cases[1][0]])
    print(f"shared / direct at {procs} processes: "
          f"{statistics.median(runs[cases[2][0]]) / direct:.2f}x")
    print(f"{'one process, CPU only (tmpfs), µs/dispatch':<44} {'min':>9} {'median':>9} "
          f"{'max':>9}")
    for shared, values in lone.items():
        label = f"  shared writer {'on' if shared else 'off'}"
        print(f"{label:<44} " + " ".join(f"{v:>9.1f}" for v in (
            min(values), statistics.median(values), max(values))))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2:])
    else:
        main()
