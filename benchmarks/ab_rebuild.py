"""`rebuild bank_accounts` of two checkouts side by side on one store, interleaved with raw
sqlite3's replay (`a3`), so that a busy spell on a shared machine hits all three alike.

One bank store of `--events` imported events (streams of 100, as `bench_rebuild.py`) and
the raw baseline's table with the same events are built once (by this checkout); each side
is then a worker process importing `incident_core` from its checkout, and a third runs raw
`a3`. A round runs one rebuild (lineage on) in each worker and one `a3` (the order rotates
every round). Prints CPU µs per event (min / median / max over rounds), the ratio of raw
to each side (of the medians, and the median of each round's own ratio), and the load.

    python benchmarks/ab_rebuild.py --before /path/to/main [--after .] [--events 100000]
        [--rounds 7] [--tmpdir DIR] [--keep DIR]

`--keep DIR` builds the two stores in DIR once and leaves them there: a later run with the
same `--keep DIR` (and `--events`) measures them again without importing anew.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
NAME = "bank_accounts"


def worker(kind: str, folder: str) -> None:
    """Serve rounds: read a line, run one rebuild (or raw a3), write its CPU seconds."""
    import gc
    import time

    if kind == "raw":
        sys.path.insert(0, str(HERE))
        from benchmarks._baseline import raw_a3, raw_connect
        conn = raw_connect(os.path.join(folder, "raw.db"), "FULL")

        def run() -> None:
            raw_a3(conn)
    else:
        from incident_core import Application
        from incident_core.examples.bank import domain
        from incident_core.operations.rebuild import rebuild
        from incident_core.progress import run_to_end
        app = Application.open(os.path.join(folder, "store.sqlite3"), domain)

        def run() -> None:
            run_to_end(rebuild(app, [NAME]))
    for _ in sys.stdin:
        gc.collect()
        started = time.process_time()
        run()
        print(time.process_time() - started, flush=True)


def build(folder: str, events: int) -> None:
    """The raw table and the bank store (imported as `bench_rebuild.py` imports it)."""
    sys.path.insert(0, str(HERE))
    from benchmarks._baseline import DDL, bulk_dataset, now_iso, raw_a1, raw_connect
    from benchmarks.bench_core import bank_envelopes, import_api
    from incident_core import Application
    from incident_core.examples.bank import domain

    dataset = bulk_dataset(events)
    conn = raw_connect(os.path.join(folder, "raw.db"), "FULL")
    conn.execute(DDL)
    raw_a1(conn, dataset)
    conn.close()
    with Application.open(os.path.join(folder, "store.sqlite3"), domain, create=True) as app:
        import_api(app, bank_envelopes(dataset, now_iso()), 2000)


def start(kind: str, checkout: str, folder: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": checkout}
    return subprocess.Popen([sys.executable, __file__, "--worker", kind, "--folder", folder],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd=checkout)


def rounds(workers: dict[str, subprocess.Popen[str]], count: int) -> dict[str, list[float]]:
    names = list(workers)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for number in range(count):
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            pipe = workers[name]
            assert pipe.stdin is not None and pipe.stdout is not None
            pipe.stdin.write("go\n")
            pipe.stdin.flush()
            seconds[name].append(float(pipe.stdout.readline()))
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", help="the other checkout (its folder)")
    ap.add_argument("--after", default=str(HERE))
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--tmpdir", default=None)
    ap.add_argument("--keep", default=None, help="build the stores here once, and keep them")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.folder)
        return 0
    if not args.before:
        ap.error("--before is required")
    folder = args.keep or tempfile.mkdtemp(prefix="incident_ab_rebuild_", dir=args.tmpdir)
    try:
        if not os.path.exists(os.path.join(folder, "store.sqlite3")):
            os.makedirs(folder, exist_ok=True)
            build(folder, args.events)
        workers = {"raw a3": start("raw", str(HERE), folder),
                   "before": start("side", str(Path(args.before).resolve()), folder),
                   "after": start("side", str(Path(args.after).resolve()), folder)}
        load0 = os.getloadavg()
        seconds = rounds(workers, args.rounds)
        load1 = os.getloadavg()
        for pipe in workers.values():
            assert pipe.stdin is not None
            pipe.stdin.close()
            pipe.wait()
        report(seconds, args.events, args.rounds, load0, load1)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def report(seconds: dict[str, list[float]], events: int, count: int,
           load0: tuple[float, ...], load1: tuple[float, ...]) -> None:
    print(f"events={events} rounds={count}  cpu µs/event min median max; ratio raw/side "
          f"(of medians; median of each round's)")
    raw = seconds["raw a3"]
    for name, values in seconds.items():
        us = [v / events * 1e6 for v in values]
        line = f"{name:8} {min(us):6.2f} {statistics.median(us):6.2f} {max(us):6.2f}"
        if name != "raw a3":
            each = statistics.median(r / v for r, v in zip(raw, values, strict=True))
            line += f"   ratio {statistics.median(raw) / statistics.median(values):.3f}" \
                    f"  ({each:.3f})"
        print(line)
    print(f"loadavg start={load0[0]:.2f} end={load1[0]:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
