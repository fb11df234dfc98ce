"""Row lineage's cost and its lookups (not a test: it prints a table).

    python benchmarks/bench_lineage.py [--commands 2000] [--events 50000] [--blocks 5]
                                       [--big PATH] [--lookups 200]

Lineage is derived from the log (see `incident_core.engine.lineage`): handlers keyed by
the aggregate id store nothing; custom-key handlers store one narrow index entry per event.
So the cost cases run the bank's projections plus `deposit_buckets`, a projection keyed by
a key function (every deposit indexed), with lineage on and with every projection opted
out (`lineage=False`):

* dispatch: `Application.dispatch(DepositMoney)` round-robin over 100 accounts on a fresh
  SQLite store; blocks of each alternate (the order swaps every block) so a slow spell of
  the shared machine hits both; min / median / max.
* rebuild: the rebuild operation of the projections on one store of about --events events
  (made by import), with and without lineage, alternating the same way.
* lookups (with --big PATH, a big bank store such as bench_timetravel's 1M one, or
  --big-events N to make one): the store is COPIED to --work (the original is never
  written), then `row_history` of random account and transfer rows and `rows_changed_by`
  of random positions, min / median / max over --lookups each (target < 50 ms); and the
  worst case, a row with 10,000 events (deposits to one account, added to the copy once).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from incident_core import Application  # noqa: E402
from incident_core.domain import Domain  # noqa: E402
from incident_core.envelope import RecordedEvent  # noqa: E402
from incident_core.examples.bank import DepositMoney, MoneyDeposited, OpenAccount  # noqa: E402
from incident_core.examples.bank import domain as bank  # noqa: E402
from incident_core.operations import rebuild  # noqa: E402
from incident_core.operations.demo import demo  # noqa: E402
from incident_core.operations.export_import import export_events  # noqa: E402
from incident_core.progress import run_to_end  # noqa: E402
from incident_core.projections import Projection  # noqa: E402


class BucketRow(BaseModel):
    bucket: str
    deposits: int


def with_buckets(domain: Domain) -> Domain:
    """The domain plus `deposit_buckets`: deposits counted by a custom key."""
    buckets = Projection("deposit_buckets", BucketRow, key="bucket")

    @buckets.on(MoneyDeposited, key=lambda recorded, event: f"b{event.amount % 10}")
    def deposited(row: BucketRow | None, event: MoneyDeposited,
                  recorded: RecordedEvent) -> BucketRow:
        found = row or BucketRow(bucket=f"b{event.amount % 10}", deposits=0)
        return found.model_copy(update={"deposits": found.deposits + 1})

    return Domain(domain.name, aggregates=list(domain.aggregates.values()),
                  projections=[*domain.projections.values(), buckets],
                  process_managers=list(domain.process_managers.values()))


def without_lineage(domain: Domain) -> Domain:
    """The same domain with every projection opted out of lineage (same tables)."""
    quiet = []
    for projection in domain.projections.values():
        copy = Projection(projection.name, projection.row_type, key=projection.key,
                          lineage=False)
        copy._handlers = dict(projection._handlers)
        quiet.append(copy)
    return Domain(domain.name, aggregates=list(domain.aggregates.values()), projections=quiet,
                  process_managers=list(domain.process_managers.values()))


def spread(values: list[float]) -> str:
    return (f"min {min(values):,.0f} / median {statistics.median(values):,.0f} / "
            f"max {max(values):,.0f}")


def dispatch_block(domain: Domain, folder: Path, commands: int, sync: str) -> float:
    """Commands per second of one block on a fresh store."""
    path = folder / f"d-{time.monotonic_ns()}.sqlite3"
    with Application.open(str(path), domain, create=True, synchronous=sync) as app:
        app.dispatch_many([OpenAccount(aggregate_id=f"acc-{n:03d}") for n in range(100)])
        started = time.perf_counter()
        for n in range(commands):
            app.dispatch(DepositMoney(aggregate_id=f"acc-{n % 100:03d}", amount=1))
        seconds = time.perf_counter() - started
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return commands / seconds


def make_store(path: Path, events: int) -> None:
    seed = Application.open("memory:", bank, create=True)
    run_to_end(demo(seed, accounts=100, transfers=2000, seed=1, batch_size=1000))
    buffer = io.StringIO()
    run_to_end(export_events(seed.store, buffer))
    seed.close()
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    with Application.open(str(path), bank, create=True, synchronous="OFF") as app:
        copy = 0
        while app.store.head() < events:
            batch = [_renamed(e, copy) for e in lines]
            for start in range(0, len(batch), 5000):
                app.import_events(batch[start:start + 5000])
            copy += 1


def _renamed(event: dict[str, Any], copy: int) -> dict[str, Any]:
    def rename(value: Any) -> Any:
        return f"{value}-c{copy}" if isinstance(value, str) else value

    meta = {k: rename(v) if k.endswith("_id") else v
            for k, v in (event.get("metadata") or {}).items()}
    data = {k: rename(v) if k.endswith("account_number") else v
            for k, v in event["data"].items()}
    return {**event, "event_id": rename(event["event_id"]),
            "aggregate_id": rename(event["aggregate_id"]), "metadata": meta, "data": data}


def alternate(blocks: int, cases: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for block in range(blocks):
        for name in names if block % 2 == 0 else names[::-1]:
            out[name].append(cases[name]())
    return out


def rebuild_rate(path: Path, domain: Domain) -> float:
    with Application.open(str(path), domain, synchronous="NORMAL") as app:
        started = time.perf_counter()
        report = run_to_end(rebuild(app, sorted(domain.projections)))
        return report.events_read / (time.perf_counter() - started)


def lookups(big: Path, work: Path, count: int, rng: random.Random) -> list[tuple[str, str]]:
    work.mkdir(parents=True, exist_ok=True)
    copy = work / f"{big.stem}-lineage.sqlite3"
    if not copy.exists():
        staging = work / f"{big.stem}.partial"
        shutil.copyfile(big, staging)
        staging.replace(copy)
    rows: list[tuple[str, str]] = []
    with Application.open(str(copy), bank, synchronous="NORMAL") as app:
        hot = "hot-10k"
        if app.store.stream(hot) is None:  # the worst case: one row with 10,000 events
            app.dispatch(OpenAccount(aggregate_id=hot))
            for start in range(0, 10_000, 1000):
                app.dispatch_many([DepositMoney(aggregate_id=hot, amount=1 + n % 7)
                                   for n in range(start, start + 1000)])
        head = app.store.head()
        for name in ("bank_accounts", "transfers"):
            spec = app.projection(name).spec
            found = app.store.projection_rows(spec, limit=5000)
            keys = [str(rng.choice(found)[spec.key]) for _ in range(count)]
            history = timed_ms(partial(app.row_history, name), keys)
            rows.append((f"row_history({name}) on {head:,} events, ms", spread(history)))
            sizes = [float(len(app.row_history(name, k))) for k in keys[:20]]
            rows.append(("  entries per history", spread(sizes)))
        positions = [rng.randint(1, head) for _ in range(count)]
        rows.append((f"rows_changed_by(position) on {head:,} events, ms",
                     spread(timed_ms(app.rows_changed_by, positions))))
        ids = [e.event_id for e in app.store.read_events(after_position=rng.randint(1, head - 50),
                                                          limit=50)]
        rows.append(("rows_changed_by(event id), ms", spread(timed_ms(app.rows_changed_by, ids))))
        last = app.store.read_stream(hot)[-1]
        rows.append(("worst case: row_history of a 10,001-event row, ms",
                     spread(timed_ms(lambda k: app.row_history("bank_accounts", k), [hot] * 5))))
        rows.append(("worst case: rows_changed_by its last event, ms",
                     spread(timed_ms(app.rows_changed_by, [last.position] * 5))))
    return rows


def timed_ms(fn: Callable[[Any], Any], args: list[Any]) -> list[float]:
    out = []
    for arg in args:
        started = time.perf_counter()
        fn(arg)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--synchronous", default="NORMAL",
                        choices=("OFF", "NORMAL", "FULL", "EXTRA"))
    parser.add_argument("--big", type=Path, help="a big bank store for the lookups")
    parser.add_argument("--big-events", type=int, default=0,
                        help="make the big store (this many events) in --work if missing")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/lineage-bench"),
                        help="where the copy of --big goes (kept for later runs)")
    parser.add_argument("--skip-cost", action="store_true", help="only the lookups")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_cost:
            rows += cost_rows(args, folder)
    if args.big is None and args.big_events:
        args.work.mkdir(parents=True, exist_ok=True)
        args.big = args.work / f"bank-{args.big_events}.sqlite3"
        if not args.big.exists():
            make_store(args.big, args.big_events)
    if args.big is not None:
        rows += lookups(args.big, args.work, args.lookups, random.Random(7))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


def cost(rates: dict[str, list[float]]) -> str:
    """How much slower the median is with lineage than without."""
    return f"{1 - statistics.median(rates['with']) / statistics.median(rates['without']):.1%}"


def cost_rows(args: argparse.Namespace, folder: Path) -> list[tuple[str, str]]:
    sync = args.synchronous
    loud = with_buckets(bank)
    quiet = without_lineage(loud)
    rates = alternate(args.blocks, {
        "with": lambda: dispatch_block(loud, folder, args.commands, sync),
        "without": lambda: dispatch_block(quiet, folder, args.commands, sync)})
    rows = [(f"dispatch, lineage on  (cmd/s, synchronous={sync})", spread(rates["with"])),
            (f"dispatch, lineage off (cmd/s, synchronous={sync})", spread(rates["without"])),
            ("  median cost of lineage on dispatch", cost(rates))]
    store = folder / "rebuild.sqlite3"
    make_store(store, args.events)
    rebuilt = alternate(args.blocks, {"with": lambda: rebuild_rate(store, loud),
                                      "without": lambda: rebuild_rate(store, quiet)})
    rows += [(f"rebuild the projections, lineage on  (events/s, {args.events:,})",
              spread(rebuilt["with"])),
             (f"rebuild the projections, lineage off (events/s, {args.events:,})",
              spread(rebuilt["without"])),
             ("  median cost of lineage on rebuild", cost(rebuilt))]
    return rows


if __name__ == "__main__":
    sys.exit(main())
