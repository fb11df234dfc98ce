"""Time-travel benchmark on a big bank store (not a test: it prints a table).

    python benchmarks/bench_timetravel.py [--store PATH] [--events N] [--positions 5]

Makes the store once, fast: a small demo store (real commands, the transfer saga) exported,
its events replicated under new ids and imported with `Application.import_events` (the
import path: projections follow), until about N events (default 1,000,000). Then measures:

* plain rebuild of each projection (the rebuild operation), events/s;
* shadow rebuild + diff of each projection (which also leaves the row snapshots), events/s;
* as-of of every projection at random positions, cold (no snapshots, a plain replay from
  the start) and with the snapshots (target < 1 s), each followed by the raw sqlite3
  baseline of the same run (every live row of the projection tables, `SELECT *` on the
  stdlib driver): min/median/max and the ratio to the baseline, so a busy machine shows;
* a diff between two random positions, and the snapshots' count and size.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from incident_core import Application  # noqa: E402
from incident_core.examples.bank import domain  # noqa: E402
from incident_core.operations import rebuild  # noqa: E402
from incident_core.operations.asof import CHECKPOINT_EVERY, diff_positions, rows_as_of  # noqa: E402
from incident_core.operations.demo import demo  # noqa: E402
from incident_core.operations.export_import import export_events  # noqa: E402
from incident_core.operations.shadow import shadow_rebuild  # noqa: E402
from incident_core.progress import run_to_end  # noqa: E402

DEFAULT_STORE = Path("/tmp/tt/bench-timetravel.sqlite3")


def _seed_lines() -> list[dict[str, Any]]:
    app = Application.open("memory:", domain, create=True)
    run_to_end(demo(app, accounts=100, transfers=2000, seed=1, batch_size=1000))
    buffer = io.StringIO()
    run_to_end(export_events(app.store, buffer))
    app.close()
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _copy(event: dict[str, Any], copy: int) -> dict[str, Any]:
    def renamed(value: Any) -> Any:
        return f"{value}-c{copy:04d}" if isinstance(value, str) else value

    metadata = dict(event.get("metadata") or {})
    for key in ("causation_id", "correlation_id", "command_id"):
        if isinstance(metadata.get(key), str):
            metadata[key] = renamed(metadata[key])
    data = {k: renamed(v) if isinstance(v, str) and v.startswith(("acc-", "tr")) else v
            for k, v in event["data"].items()}
    return {**event, "event_id": renamed(event["event_id"]),
            "aggregate_id": renamed(event["aggregate_id"]), "metadata": metadata, "data": data}


def make_store(path: Path, events: int) -> None:
    lines = _seed_lines()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    app = Application.open(str(partial), domain, create=True, synchronous="OFF")
    copy = 0
    while app.store.head() < events:
        batch = [_copy(e, copy) for e in lines]
        for start in range(0, len(batch), 5000):
            app.import_events(batch[start:start + 5000])
        copy += 1
    head = app.store.head()
    app.close()
    os.replace(partial, path)
    print(f"made {head:,} events by import in {time.perf_counter() - started:,.0f} s",
          flush=True)


def timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def measure(app: Application, path: str, positions: int, rng: random.Random,
            quick: bool, as_of_only: bool) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    names = sorted(app.domain.projections)
    head = app.store.head()
    if as_of_only:
        return as_of_rows(app, path, names, [rng.randint(1, head) for _ in range(positions)])
    if quick:  # no rebuilds: one as-of at the head leaves the snapshots
        _, seconds = timed(lambda: rows_as_of(app, names, head))
        rows.append(("as-of all projections @ head, making the snapshots", f"{seconds:.1f} s"))
    for name in [] if quick else names:
        report, seconds = timed(lambda n=name: run_to_end(rebuild(app, [n])))
        rows.append((f"plain rebuild {name}",
                     f"{seconds:.2f} s, {report.events_read / seconds:,.0f} events/s"))
        shadow, seconds = timed(lambda n=name: run_to_end(shadow_rebuild(app, n)))
        rows.append((f"shadow rebuild + diff {name}",
                     f"{seconds:.2f} s, {shadow.events_read / seconds:,.0f} events/s, "
                     f"identical={shadow.diff.is_empty}"))
        shadow.discard()
    picks = [rng.randint(1, head) for _ in range(positions)]
    _, cold = timed(lambda: rows_as_of(app, names, picks[0], every=None))
    rows.append((f"as-of all projections @ {picks[0]:,}, cold (plain replay)", f"{cold:.2f} s"))
    rows += as_of_rows(app, path, names, picks)
    first, second = sorted(rng.sample(range(1, head), 2))
    diff, seconds = timed(lambda: diff_positions(app, "bank_accounts", first, second))
    rows.append((f"diff bank_accounts {first:,} → {second:,}",
                 f"{seconds:.3f} s: {diff.counts}"))
    return rows


def raw_rows(path: str, names: list[str]) -> float:
    """The raw sqlite3 baseline: every live row of the projection tables, fetched."""
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    for name in names:
        conn.execute(f'SELECT * FROM "{name}"').fetchall()  # the domain's table names
    conn.close()
    return time.perf_counter() - started


def as_of_rows(app: Application, path: str, names: list[str],
               picks: list[int]) -> list[tuple[str, str]]:
    """As-of at each position, each followed by the raw baseline (interleaved)."""
    rows: list[tuple[str, str]] = []
    times, ratios = [], []
    for position in picks:
        found, seconds = timed(lambda p=position: rows_as_of(app, names, p))
        raw = raw_rows(path, names)
        times.append(seconds)
        ratios.append(seconds / raw)
        replayed = max(r.replayed for r in found.values())
        counts = ", ".join(f"{n} {len(r.rows):,} rows from #{r.snapshot:,}"
                           for n, r in found.items())
        rows.append((f"as-of all projections @ {position:,} (snapshots)",
                     f"{seconds:.3f} s ({seconds / raw:.1f}x raw {raw:.3f} s), "
                     f"{replayed:,} events replayed; {counts}"))
    rows.append(("as-of min / median / max",
                 f"{min(times):.3f} / {statistics.median(times):.3f} / {max(times):.3f} s; "
                 f"under 1 s: {sum(t < 1 for t in times)} of {len(times)}; ratio to raw "
                 f"{min(ratios):.1f} / {statistics.median(ratios):.1f} / {max(ratios):.1f}"))
    return rows


def snapshot_sizes(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as conn:
        found = conn.execute("SELECT name, count(*), sum(base IS NULL), sum(length(data)) "
                             "FROM incident_row_snapshots GROUP BY name").fetchall()
    return "; ".join(f"{n}: {c} snapshots ({f} full), {b / 1e6:.1f} MB"
                     for n, c, f, b in found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--positions", type=int, default=5)
    parser.add_argument("--as-of-only", action="store_true",
                        help="only the as-of figures (the snapshots are already there)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="skip the rebuilds (snapshots from one as-of at the head)")
    args = parser.parse_args()
    if not args.store.exists():
        make_store(args.store, args.events)
    with Application.open(str(args.store), domain) as app:
        print(f"store {args.store}: {app.store.head():,} events, K = {CHECKPOINT_EVERY:,}",
              flush=True)
        rows = measure(app, str(args.store), args.positions, random.Random(args.seed),
                       args.quick, args.as_of_only)
    rows.append(("row snapshots kept", snapshot_sizes(args.store)))
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
