#!/usr/bin/env python3
"""The rebuild operation against raw sqlite3 replay (a3), interleaved (not a test).

    python benchmarks/bench_rebuild.py [--events 100000] [--reps 3] [--no-lineage] [--dict-rows]
    python benchmarks/bench_rebuild.py --profile prof.txt      # cProfile one rebuild
    python benchmarks/bench_rebuild.py --parts                 # µs/event of each phase
    python benchmarks/bench_rebuild.py --plain-rows            # rows as plain BaseModels
    python benchmarks/bench_rebuild.py --copy                  # model_copy: Row vs BaseModel

One bank store of --events imported events (streams of 100, as bench_core) and the raw
baseline's table with the same events; then --reps rounds, each timing raw a3 (read all in
position order + json decode) and `rebuild bank_accounts` (lineage on unless --no-lineage),
the order swapping every round. Prints CPU µs/event min/median/max and the CPU ratio of the
medians (raw ÷ Incident), with the load average. --parts times the rebuild's phases
separately instead: reading the pages (data left as its stored text where the store can),
decoding the events (from that text or the decoded data, as the fold does), the fold of
the pages (decoding included), the share of the fold that holds each row to what the store
gives back ("checks": per event, the snapshot of the row before its handler and the
compiled exact test of the result, `incident_core.projections.row_truth`), and dumping the
rows and swapping them in. --plain-rows rebuilds with the bank's rows as plain pydantic
`BaseModel`s (pydantic's `model_copy`) instead of `projections.Row`s; --copy times
`row.model_copy(update=...)` as the bank's handler calls it, for a `Row` and for the same row
as a plain `BaseModel`, in interleaved blocks (ns per call, min/median/max).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import create_model

from benchmarks._baseline import DDL, bulk_dataset, now_iso, raw_a1, raw_a3, raw_connect
from benchmarks.bench_core import bank_envelopes, import_api
from incident_core import Application, Domain
from incident_core.engine.decoder import from_text
from incident_core.engine.projector import ProjectionFold
from incident_core.examples.bank import domain
from incident_core.examples.bank.projections import AccountRow
from incident_core.operations.rebuild import handled_pages, rebuild
from incident_core.progress import run_to_end
from incident_core.projections import Projection

NAME = "bank_accounts"


def cpu(fn: Callable[[], Any]) -> float:
    gc.collect()
    c0 = time.process_time()
    fn()
    return time.process_time() - c0


def spread(values: list[float], n: int) -> str:
    us = [v / n * 1e6 for v in values]
    return f"{min(us):7.2f} {statistics.median(us):7.2f} {max(us):7.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-lineage", action="store_true")
    ap.add_argument("--dict-rows", action="store_true",
                    help="rebuild with the dict-folding twin of bank_accounts (the tests' one)")
    ap.add_argument("--plain-rows", action="store_true",
                    help="rebuild with bank_accounts' rows as plain BaseModels (pydantic's copy)")
    ap.add_argument("--copy", action="store_true", help="time model_copy, Row vs BaseModel")
    ap.add_argument("--profile", default=None, metavar="FILE")
    ap.add_argument("--parts", action="store_true", help="time each phase of a rebuild")
    args = ap.parse_args()
    if args.copy:
        copies(args.reps)
        return 0
    base = tempfile.mkdtemp(prefix="incident_bench_rebuild_")
    try:
        return run(args, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run(args: argparse.Namespace, base: str) -> int:
    n = args.events
    ds = bulk_dataset(n)
    raw_path = os.path.join(base, "raw.db")
    w = raw_connect(raw_path, "FULL")
    w.execute(DDL)
    raw_a1(w, ds)
    w.close()
    chosen = domain
    if args.dict_rows:
        from tests.dict_rows_domains import bank_dicts as chosen
    if args.plain_rows:
        chosen = _plain_bank()
    if args.no_lineage:
        chosen.projections[NAME].lineage = False
    app = Application.open(os.path.join(base, "store.sqlite3"), chosen, create=True)
    import_api(app, bank_envelopes(ds, now_iso()), 2000)
    if args.profile:
        profiled(app, args.profile)
        app.close()
        return 0
    r = raw_connect(raw_path, "FULL")
    if args.parts:
        parts(app, r, args.reps, n)
        r.close()
        app.close()
        return 0
    raw: list[float] = []
    inc: list[float] = []
    load0 = os.getloadavg()
    for i in range(args.reps):
        cases = [(raw, lambda: raw_a3(r)), (inc, lambda: run_to_end(rebuild(app, [NAME])))]
        for into, fn in cases if i % 2 == 0 else cases[::-1]:
            into.append(cpu(fn))
    load1 = os.getloadavg()
    r.close()
    app.close()
    print(f"events={n} reps={args.reps} lineage={'off' if args.no_lineage else 'on'} "
          f"rows={'dict' if args.dict_rows else 'plain' if args.plain_rows else 'model'}")
    print(f"{'case':10} {'cpu µs/event min median max':>30}")
    print(f"{'raw a3':10} {spread(raw, n):>30}")
    print(f"{'rebuild':10} {spread(inc, n):>30}")
    print(f"CPU ratio (medians, raw/rebuild): {statistics.median(raw) / statistics.median(inc):.3f}"
          f"  best: {min(raw) / min(inc):.3f}")
    print(f"loadavg start={load0[0]:.2f} end={load1[0]:.2f}")
    return 0


def profiled(app: Application, path: str) -> None:
    """cProfile one rebuild into `path`: by own time, then cumulative."""
    profile = cProfile.Profile()
    profile.enable()
    run_to_end(rebuild(app, [NAME]))
    profile.disable()
    with open(path, "w") as out:
        stats = pstats.Stats(profile, stream=out)
        stats.strip_dirs().sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(40)


def parts(app: Application, r: Any, reps: int, n: int) -> None:
    """µs/event of each phase of `rebuild bank_accounts`, and of raw a3, over `reps`."""
    times: dict[str, list[float]] = {k: [] for k in ("raw a3", "read", "decode", "fold",
                                                     "checks", "swap", "whole")}
    for _ in range(reps):
        times["raw a3"].append(cpu(lambda: raw_a3(r)))
        for name, seconds in _phases(app).items():
            times[name].append(seconds)
    print(f"events={n} reps={reps} loadavg={os.getloadavg()[0]:.2f}")
    for name, values in times.items():
        print(f"{name:8} {spread(values, n)}")


def _phases(app: Application) -> dict[str, float]:
    """CPU seconds of each phase of one rebuild of bank_accounts, then of a whole one."""
    head = app.store.head()
    fold = ProjectionFold(app.domain, [app.projection(NAME)])
    pages: list[list[Any]] = []
    return {
        "read": cpu(lambda: pages.extend(handled_pages(app, fold.event_types, head))),
        "decode": cpu(lambda: _decode_all(app, pages)),
        "fold": cpu(lambda: _fold_all(fold, pages)),
        "checks": cpu(lambda: _checks(fold, pages)),
        "swap": cpu(lambda: app.replace_projection(NAME, fold.rows(NAME), head,
                                                   lineage_staged=True)),
        "whole": cpu(lambda: run_to_end(rebuild(app, [NAME]))),
    }


def _fold_all(fold: ProjectionFold, pages: list[list[Any]]) -> None:
    for page in pages:
        fold.feed_page(page)


def _checks(fold: ProjectionFold, pages: list[list[Any]]) -> None:
    """What the fold does per event to hold rows to the store (on the rebuilt rows): a
    shallow snapshot of the row before the handler, the exact test of the result."""
    route = fold._routes[NAME]  # a benchmark may look inside
    rows, projection = route.buffer.rows, route.buffer.projection
    exact, model = projection.exact, projection.row_form == "model"
    gc.disable()
    try:
        for page in pages:
            for recorded in page:
                row = rows.get(recorded.aggregate_id)
                if row is not None:
                    values = row.__dict__ if model else row
                    values.copy()
                    exact(values)
    finally:
        gc.enable()


def _decode_all(app: Application, pages: list[list[Any]]) -> None:
    """Each event decoded as the fold does: from its stored text where the page left it
    (`UndecodedEvent.data_text`) and the type allows (`decoder.from_text`), else from its
    data by the model's Python validator."""
    domain = app.domain
    validators = {name: (from_text(domain, name), etype.__pydantic_validator__.validate_python)
                  for name, etype in domain.event_types.items()}
    gc.disable()
    try:
        for page in pages:
            for recorded in page:
                fast, validate = validators[recorded.event_type]
                text = getattr(recorded, "data_text", None)
                if fast is not None and text:
                    fast(text)
                else:
                    validate(recorded.data)
    finally:
        gc.enable()


# the bank's `AccountRow` fields on a plain BaseModel: pydantic's own `model_copy`
PlainAccountRow = create_model(
    "PlainAccountRow", **{name: (field.annotation, ...)
                          for name, field in AccountRow.model_fields.items()})


def _plain_bank() -> Domain:
    """The bank with `bank_accounts` folding `PlainAccountRow`s, by the same handlers."""
    from tests.dict_rows_domains import twin
    plain: Projection[PlainAccountRow] = Projection(NAME, PlainAccountRow)
    for event_type, (handler, key) in domain.projections[NAME].handlers.items():
        plain.on(domain.event_types[event_type], key=key)(handler)
    return twin(domain, [plain])


def copies(reps: int) -> None:
    """ns per `model_copy(update=...)` (the bank handler's update), Row and BaseModel rows,
    in interleaved blocks of 20,000 calls."""
    values = {"aggregate_id": "A1", "account_number": "A1", "balance": 10, "version": 1,
              "event_id": "e1", "event_date": datetime(2026, 1, 1, tzinfo=UTC)}
    update = {"balance": 15, "version": 2, "event_id": "e2",
              "event_date": datetime(2026, 1, 2, tzinfo=UTC)}
    rows = {"Row": AccountRow(**values), "BaseModel": PlainAccountRow(**values)}
    times: dict[str, list[float]] = {name: [] for name in rows}
    for i in range(max(reps, 1) * 5):
        for name in rows if i % 2 == 0 else reversed(rows):
            copy = partial(rows[name].model_copy, update=update)
            times[name].append(timeit.timeit(copy, number=20_000) / 20_000)
    print(f"model_copy(update=...) ns/call min median max  loadavg={os.getloadavg()[0]:.2f}")
    for name, values_ in times.items():
        ns = [v * 1e9 for v in values_]
        print(f"{name:10} {min(ns):7.0f} {statistics.median(ns):7.0f} {max(ns):7.0f}")


if __name__ == "__main__":
    raise SystemExit(main())
