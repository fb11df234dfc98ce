"""What the memory store's copies cost: 100k bank events, a full read (`iter_events`) and
a rebuild of the bank's projections, with the store handing out copies of its events (new)
or, patched, its own objects (old: how it was before), in alternating blocks; min, median
and max over 7 blocks each, in milliseconds. The memory store is for tests and demos: this
is a ratio between the two forms in one run, not a comparison with raw sqlite3.

    python benchmarks/bench_memory_copies.py
"""

from __future__ import annotations

import os
import time

import incident_core.store.memory.store as mstore
from incident_core import Application
from incident_core.examples.bank import DepositMoney, OpenAccount, domain
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from incident_core.store.memory.state import handed_all


def main() -> None:
    app = Application.open("memory:", domain, create=True)
    app.dispatch_many([OpenAccount(aggregate_id=f"a{i}") for i in range(1000)])
    for _ in range(99):
        app.dispatch_many([DepositMoney(aggregate_id=f"a{i}", amount=5) for i in range(1000)])
    copying = handed_all
    res: dict[str, list[float]] = {k: [] for k in ("read old", "read new", "rebuild old",
                                                   "rebuild new")}
    for _ in range(7):
        for variant, fn in (("old", list), ("new", copying)):
            setattr(mstore, "handed_all", fn)  # noqa: B010 - the old form, patched in
            t = time.perf_counter()
            sum(len(p) for p in app.store.iter_events())
            res[f"read {variant}"].append(time.perf_counter() - t)
            t = time.perf_counter()
            run_to_end(rebuild(app, sorted(domain.projections)))
            res[f"rebuild {variant}"].append(time.perf_counter() - t)
    for name, xs in res.items():
        xs.sort()
        print(f"{name:12} min/median/max ms",
              [round(x * 1000, 1) for x in (xs[0], xs[3], xs[-1])])
    print("load", os.getloadavg())


if __name__ == "__main__":
    main()
