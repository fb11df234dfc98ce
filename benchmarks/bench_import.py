"""Bulk import against raw sqlite3, interleaved: `bench_core.py`'s `a1`, `import` and
`import_api` rows alone, so they can be run often, on disk and on tmpfs, at 100k or 1M.

    python benchmarks/bench_import.py --events 100000 --reps 5
    python benchmarks/bench_import.py --events 100000 --reps 5 --tmpdir /dev/shm
    PYTHONPATH=/path/to/other/copy python benchmarks/bench_import.py ...   # "before"

Each rep runs the three cases in a rotating order on fresh store files: `a1` (one
executemany into the raw schema, one transaction), `import` (the import operation over
NDJSON lines held in memory, as `incident import FILE` runs it, projections included) and
`import_api` (`Application.import_events` in batches of 2000, no file checks). The lines
are `json.dumps` of each envelope (as `bench_core.py` makes them); `--export-form` writes
them as `incident export` does (compact, non-ASCII kept); `--commands` gives each event a
command id of its own, as a dispatch records it (then the log's command index has an
entry per event; by default every id is the event's own). Prints
min / median / max of events/s, CPU µs per event, and the ratio to the `a1` of the same
rep (so a slow spell hits both sides), with the load average. `--cases` may add the floors
of `import_floors.py` (`log_rows`, `log_deferred`, `log_sql`): what the log's writes cost
with no Python per event. `--parts` runs the `import` case once more, timing its parts
(CPU µs per event; a part's time includes the parts it calls: `project` includes `fold`,
`flush` the event rows' SQL):

    python benchmarks/bench_import.py --events 1000000 --reps 1 --commands --parts
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.append(str(Path(__file__).resolve().parent.parent))

import incident_core
from benchmarks._baseline import DDL, bulk_dataset, now_iso, raw_a1, raw_connect
from benchmarks.bench_core import bank_envelopes, fresh_app, import_api, import_file, timed
from benchmarks.import_floors import FLOORS, run_floor

CASES = ("a1", "import", "import_api")


EXPORT_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def with_commands(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The envelopes' metadata as a dispatch records it: a command id of its own (which
    is also the causation and correlation id), so the log's command index has an entry per
    event (`bank_envelopes` makes every id the event's own: the partial indexes stay
    empty)."""
    for envelope in envelopes:
        command_id = str(uuid.uuid4())
        envelope["metadata"].update(correlation_id=command_id, causation_id=command_id,
                                    command_id=command_id)
    return envelopes


def run_case(case: str, n: int, base: str, sync: str,
             export_form: bool = False, commands: bool = False) -> tuple[float, float]:
    """(wall s, CPU s) of one case on fresh files."""
    ds = bulk_dataset(n)
    if case == "a1":
        d = tempfile.mkdtemp(prefix="raw_", dir=base)
        conn = raw_connect(os.path.join(d, "events.db"), sync)
        conn.execute(DDL)
        wall, cpu, _ = timed("a1", lambda: raw_a1(conn, ds))
        conn.close()
    elif case in FLOORS:
        envelopes = bank_envelopes(ds, now_iso())
        wall, cpu, d = run_floor(case, with_commands(envelopes) if commands else envelopes,
                                 base, sync)
    else:
        envelopes = bank_envelopes(ds, now_iso())
        if commands:
            envelopes = with_commands(envelopes)
        app, d = fresh_app(base, f"{case}_", sync)
        if case == "import":
            encode = EXPORT_ENCODE if export_form else json.dumps
            lines = [encode(e) for e in envelopes]
            wall, cpu, _ = timed(case, lambda: import_file(app, lines))
        else:
            wall, cpu, _ = timed(case, lambda: import_api(app, envelopes, 2000))
        assert app.store.event_count() == n
        app.close()
    shutil.rmtree(d)
    return wall, cpu


def _parts() -> list[tuple[Any, str, str]]:
    """(owner, attribute, label) of the functions `--parts` times."""
    from sqlalchemy import Index

    from incident_core.engine import projector, unit
    from incident_core.operations import bulk_import, import_checks
    from incident_core.store.sql import import_rows, transaction
    return [
        (import_checks.LineChecker, "check_lines", "check lines (parse, shape, ids, decode)"),
        (bulk_import._Target, "admit", "against the store (ids, streams)"),
        (bulk_import, "append_batch", "append + project (all below)"),
        (import_rows, "row_tuples", "  rows built"),
        (unit.Unit, "finish", "  project (fold + rows written)"),
        (projector.ProjectionRun, "fold", "    fold"),
        (transaction.SqlTransaction, "_write_events", "  event + stream rows SQL"),
        (Index, "drop", "drop indexes"),
        (Index, "create", "build indexes again"),
        (transaction.SqlTransaction, "commit", "commit"),
    ]


def run_parts(n: int, base: str, sync: str, export_form: bool, commands: bool) -> None:
    """The `import` case once, its parts timed (CPU µs per event)."""
    spent: defaultdict[str, float] = defaultdict(float)
    saved = []
    for owner, name, label in _parts():
        original = getattr(owner, name)
        saved.append((owner, name, original))
        setattr(owner, name, _timing(original, label, spent))
    try:
        _, cpu = run_case("import", n, base, sync, export_form, commands)
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)
    print(f"parts of one import of {n} events (CPU µs/event; a part includes those under it)")
    print(f"  {'whole import':42} {cpu / n * 1e6:6.2f}")
    for _, _, label in _parts():
        print(f"  {label:42} {spent[label] / n * 1e6:6.2f}")


def _timing(original: Callable[..., Any], label: str,
            spent: defaultdict[str, float]) -> Callable[..., Any]:
    @functools.wraps(original)
    def timed_part(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - start
    return timed_part


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--synchronous", default="FULL")
    ap.add_argument("--tmpdir", default=None, help="parent dir of the temp stores")
    ap.add_argument("--cases", default=",".join(CASES),
                    help=f"comma-separated subset of {', '.join(CASES + FLOORS)} (the "
                         "last three: floors before any Python per event, see import_floors.py)")
    ap.add_argument("--export-form", action="store_true",
                    help="import lines as `incident export` writes them (compact)")
    ap.add_argument("--commands", action="store_true",
                    help="each event's command id its own, as a dispatch records it (the "
                         "default: every id the event's own, no entry in the id indexes)")
    ap.add_argument("--parts", action="store_true",
                    help="then time the parts of one more `import` run")
    args = ap.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    if "a1" not in cases:
        cases.insert(0, "a1")
    base = tempfile.mkdtemp(prefix="incident_bench_import_", dir=args.tmpdir)
    load_start = os.getloadavg()
    runs: dict[str, list[tuple[float, float]]] = {c: [] for c in cases}
    ratios: dict[str, list[float]] = {c: [] for c in cases}
    try:
        for rep in range(args.reps):
            order = cases[rep % len(cases):] + cases[:rep % len(cases)]
            done = {}
            for case in order:
                print(f"rep {rep + 1}/{args.reps}: {case} ...", file=sys.stderr, flush=True)
                done[case] = run_case(case, args.events, base, args.synchronous,
                                      args.export_form, args.commands)
                runs[case].append(done[case])
            for case in cases:
                ratios[case].append(done["a1"][0] / done[case][0])
        report(args, runs, ratios, load_start)
        if args.parts:
            run_parts(args.events, base, args.synchronous, args.export_form, args.commands)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


def report(args: argparse.Namespace, runs: dict[str, list[tuple[float, float]]],
           ratios: dict[str, list[float]], load_start: tuple[float, float, float]) -> None:
    n = args.events

    def spread(values: list[float], fmt: Callable[[float], str]) -> str:
        return " / ".join(fmt(v) for v in (min(values), statistics.median(values), max(values)))

    print(f"bulk import, {n} events, {args.reps} reps, synchronous={args.synchronous}, "
          f"{'export-form' if args.export_form else 'json.dumps'} lines, "
          f"{'a command id per event' if args.commands else 'no command ids'}, "
          f"tmpdir={args.tmpdir or tempfile.gettempdir()}, incident_core "
          f"{Path(incident_core.__file__).parent}")
    print(f"{'case':11} {'events/s min / median / max':>32} {'cpu µs/ev min / med / max':>27} "
          f"{'ratio to a1 (same rep) min / med / max':>40}")
    for case, values in runs.items():
        rates = [n / wall for wall, _ in values]
        cpus = [cpu / n * 1e6 for _, cpu in values]
        print(f"{case:11} {spread(rates, lambda v: f'{v:,.0f}'):>32} "
              f"{spread(cpus, lambda v: f'{v:.1f}'):>27} "
              f"{spread(ratios[case], lambda v: f'{v:.3f}'):>40}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"loadavg start={tuple(round(x, 2) for x in load_start)} "
          f"end={tuple(round(x, 2) for x in os.getloadavg())}  peak RSS {peak:,.0f} MB "
          "(the whole process: datasets, lines and stores)")


if __name__ == "__main__":
    sys.exit(main())
