"""What keeping live = replay for changeable types costs a dispatch (SQLite on /dev/shm).

Three cases, interleaved in blocks of `--block` commands, each a durable transaction:
raw `a2` (sqlite3: BEGIN IMMEDIATE; INSERT; COMMIT per event), the bank's
`DepositMoney` (flat, frozen types: the engine shares them as before) and the shipping
example's `AmendCustoms` / `ReserveCapacity` / `ReleaseCapacity` (states and events with
dicts and lists: private copies). CPU µs per dispatch, min / median / max over the blocks,
and the median's ratio to raw a2 (of the same run). To compare two copies of the package,
run it with each first on the path: `PYTHONPATH=/path/to/copy python benchmarks/...`.

    python benchmarks/bench_state_copies.py [--commands 3000] [--block 100] [--phases]

`--phases` then also prints, per domain, the main thread's CPU in the phases that copy
(decide: execute, the check, encode, decode, fold; finish: projections), per dispatch.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import cycle
from typing import Any

import incident_core
from benchmarks._baseline import DDL, per_command_dataset, raw_a2, raw_connect
from incident_core import Application
from incident_core.domain import Command
from incident_core.engine import committing, unit
from incident_core.examples import bank, shipping
from incident_core.examples.shipping.shipments import AmendCustoms, BookShipment
from incident_core.examples.shipping.values import Address, Dimensions, Leg, Mode
from incident_core.examples.shipping.vessels import (
    RegisterVessel,
    ReleaseCapacity,
    ReserveCapacity,
)

Block = Callable[[int], None]
PHASES: list[tuple[Any, str]] = [(committing.Plan, "decide"), (unit.Unit, "finish"),
                                 (unit.Unit, "event_of")]


def phases(run: Block, n: int) -> dict[str, float]:
    """CPU µs per dispatch in each of PHASES while `run(n)` (wrapped: a little overhead)."""
    spent: dict[str, int] = {}
    originals = [(owner, name, getattr(owner, name)) for owner, name in PHASES]
    for owner, name, original in originals:
        setattr(owner, name, _timed(original, name, spent))
    try:
        run(n)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return {name: spent.get(name, 0) / n / 1000 for _, name in PHASES}


def _timed(original: Callable[..., Any], label: str,
           spent: dict[str, int]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time_ns()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0) + time.thread_time_ns() - start
    return wrapper


def bank_case(folder: str) -> tuple[Application, Iterator[Command]]:
    app = Application.open(os.path.join(folder, "bank.sqlite3"), bank.domain, create=True)
    ids = [f"acc-{i}" for i in range(30)]
    for key in ids:
        app.dispatch(bank.OpenAccount(aggregate_id=key))
    return app, (bank.DepositMoney(aggregate_id=key, amount=1) for key in cycle(ids))


def shipping_case(folder: str) -> tuple[Application, Iterator[Command]]:
    app = Application.open(os.path.join(folder, "ship.sqlite3"), shipping.domain, create=True)
    vessels = [f"IMO{9_000_001 + i}" for i in range(10)]
    for imo in vessels:
        app.dispatch(RegisterVessel(aggregate_id=imo, name=imo, capacity_teu=10_000,
                                    speed_knots=20.0))
    at = datetime(2026, 1, 5, tzinfo=UTC)
    place = Address(name="Acme", street="Kade 1", city="Rotterdam", country="NL")
    shipments = [f"00000000-0000-7000-8000-{i:012d}" for i in range(20)]
    for number, key in enumerate(shipments):
        app.dispatch(BookShipment(
            aggregate_id=key, shipper=place, consignee=place,
            dimensions=Dimensions(length_cm=100, width_cm=100, height_cm=100),
            weight_kg=12.5, declared_value=Decimal("100.00"), customs_tags={"hs": "8471"},
            reference=None, booked_at=at,
            legs=[Leg(origin="NLRTM", destination="SGSIN", mode=Mode.SEA, departs_at=at,
                      vessel_id=vessels[number % 10])]))
    return app, _shipping_commands(shipments, vessels)


def _shipping_commands(shipments: list[str], vessels: list[str]) -> Iterator[Command]:
    for step in range(10**9):
        key, imo = shipments[step % 20], vessels[step % 10]
        reserved = f"00000000-0000-7000-9000-{step:012d}"
        yield AmendCustoms(aggregate_id=key, customs_tags={"hs": str(8000 + step % 999),
                                                           "origin": "NL"})
        yield ReserveCapacity(aggregate_id=imo, shipment_id=reserved, teu=1)
        yield ReleaseCapacity(aggregate_id=imo, shipment_id=reserved)


def app_block(app: Application, commands: Iterator[Command]) -> Block:
    def run(n: int) -> None:
        for _ in range(n):
            if not app.dispatch(next(commands)).ok:
                raise SystemExit("a benchmark command was refused")
    return run


def raw_block(folder: str, total: int) -> Block:
    conn = raw_connect(os.path.join(folder, "raw.db"), "FULL")
    conn.execute(DDL)
    rows = iter(per_command_dataset(total))
    return lambda n: raw_a2(conn, [next(rows) for _ in range(n)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=3000)
    ap.add_argument("--block", type=int, default=100)
    ap.add_argument("--phases", action="store_true", help="also time the copying phases")
    args = ap.parse_args()
    folder = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        bank_app, bank_commands = bank_case(folder)
        ship_app, ship_commands = shipping_case(folder)
        cases = {"raw a2": raw_block(folder, args.commands + args.block),
                 "bank DepositMoney": app_block(bank_app, bank_commands),
                 "shipping amend/reserve/release": app_block(ship_app, ship_commands)}
        for run in cases.values():  # warm up
            run(args.block)
        spent: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.commands // args.block):
            for name, run in cases.items():
                start = time.process_time()
                run(args.block)
                spent[name].append((time.process_time() - start) / args.block * 1e6)
        print(f"incident_core from {os.path.dirname(incident_core.__file__)}; "
              f"load average {os.getloadavg()[0]:.2f}")
        raw = statistics.median(spent["raw a2"])
        for name, figures in spent.items():
            median = statistics.median(figures)
            print(f"  {name:32s} CPU µs/dispatch min {min(figures):7.1f}  median "
                  f"{median:7.1f}  max {max(figures):7.1f}  raw/this {raw / median:.3f}")
        if args.phases:
            for name in ("bank DepositMoney", "shipping amend/reserve/release"):
                found = phases(cases[name], args.commands)
                print(f"  {name:32s} " + "  ".join(f"{k} {v:5.1f}" for k, v in found.items()))
        bank_app.close()
        ship_app.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
