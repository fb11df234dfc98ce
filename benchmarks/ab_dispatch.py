"""Dispatch CPU of two checkouts side by side, in small interleaved blocks (so that a busy
spell on a shared machine hits both alike), beside raw sqlite3's `a2` transaction.

Each side is a worker process importing `incident_core` from its checkout, with a bank store
on /dev/shm (CPU only: no fsync) and `--accounts` accounts opened; a round runs one block of
`--block` `DepositMoney` dispatches in each worker in turn (the order alternates) and
raw `a2` inserts in a third. Prints CPU µs per dispatch (min / median / max over rounds),
the ratio of raw to each side, and the load average.

    python benchmarks/ab_dispatch.py --before /work/main [--after .] [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def worker(kind: str, folder: str, accounts: int, block: int) -> None:
    """Serve blocks: read a line, run a block, write its CPU µs per command."""
    if kind == "raw":
        sys.path.append(str(HERE))
        from benchmarks.physical_write import RawA2
        raw = RawA2(folder, 1000)
        run = raw.command
    else:
        from incident_core import Application
        from incident_core.examples.bank import DepositMoney, OpenAccount, domain
        app = Application.open(os.path.join(folder, f"{kind}.sqlite3"), domain, create=True)
        for n in range(accounts):
            app.dispatch(OpenAccount(aggregate_id=f"acc-{n}"))
        count = 0

        def run() -> None:
            nonlocal count
            count += 1
            app.dispatch(DepositMoney(aggregate_id=f"acc-{count % accounts}", amount=1))
    for _ in range(block):  # warm
        run()
    print("ready", flush=True)
    for _line in sys.stdin:
        start = time.process_time()
        for _ in range(block):
            run()
        print((time.process_time() - start) / block * 1e6, flush=True)


def _spawn(kind: str, checkout: str, folder: str, args: argparse.Namespace,
           ) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=checkout)
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--folder", folder,
         "--accounts", str(args.accounts), "--block", str(args.block)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=checkout)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _block(proc: subprocess.Popen[str]) -> float:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="the checkout to compare against (required)")
    ap.add_argument("--after", default=str(HERE), help="this checkout (default)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--block", type=int, default=200)
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.folder, args.accounts, args.block)
        return
    if not args.before:
        ap.error("--before is required")
    folder = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    sides = {"before": args.before, "after": args.after}
    procs = {name: _spawn(name, str(Path(path).resolve()), folder, args)
             for name, path in sides.items()}
    procs["raw a2"] = _spawn("raw", str(HERE), folder, args)
    cpu: dict[str, list[float]] = {name: [] for name in procs}
    try:
        for number in range(args.rounds):
            order = list(procs) if number % 2 == 0 else list(reversed(procs))
            for name in order:
                cpu[name].append(_block(procs[name]))
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait()
        subprocess.run(["rm", "-rf", folder], check=False)
    print(f"{args.rounds} rounds x {args.block} commands, load {os.getloadavg()[0]:.2f}")
    raw = statistics.median(cpu["raw a2"])
    for name, values in cpu.items():
        median = statistics.median(values)
        print(f"{name:8s} CPU µs/command min {min(values):7.1f}  median {median:7.1f}  "
              f"max {max(values):7.1f}  raw/this {raw / median:5.3f}")


if __name__ == "__main__":
    main()
