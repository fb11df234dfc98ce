#!/usr/bin/env python3
"""What telemetry costs a dispatch: absent, disabled and enabled, against raw sqlite3.

    python benchmarks/bench_telemetry.py [--commands 2000] [--block 200] [--rounds 5]
                                         [--baseline DIR] [--dir /dev/shm]

CPU per command (`time.process_time`) of `Application.dispatch(DepositMoney)` round-robin
over commands/100 accounts, stores on tmpfs (fsync costs nothing there: the CPU cost alone),
next to raw sqlite3's `a2` (BEGIN IMMEDIATE; INSERT; COMMIT) on the same tmpfs in the same
process. Each worker process runs its modes in blocks of `--block` commands, taking turns
(the order rotating each block), so a slow spell on the shared machine hits all alike:

* worker `installed`: raw, `disabled` (OpenTelemetry installed, `enable()` never called in
  this block) and `enabled` (`telemetry.enable()` with the SDK: a TracerProvider with a
  SimpleSpanProcessor into an InMemorySpanExporter, a MeterProvider with an
  InMemoryMetricReader; `disable()` after the block);
* worker `absent`: raw and `absent` (`import opentelemetry` made to fail);
* worker `baseline` (with `--baseline DIR`, a copy of `incident_core` without the hooks,
  e.g. `git archive <commit before the hooks> incident_core | tar -x -C DIR`): raw and
  `no-hooks`.

The workers themselves take turns for `--rounds` rounds. Printed: min / median / max
µs per command over every block of every round, and each median's ratio to raw `a2`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `benchmarks._baseline` importable
    sys.path.append(str(ROOT))

from benchmarks._baseline import DDL, per_command_dataset, raw_a2, raw_connect  # noqa: E402

WORKERS = {"installed": ("disabled", "enabled"), "absent": ("absent",),
           "baseline": ("no-hooks",)}


# -- inside a worker process ------------------------------------------------------------
def _sdk() -> tuple[Callable[[], None], Callable[[], None]]:
    """enable / disable with the SDK and in-memory exporters (spans dropped after each block,
    untimed)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from incident_core import telemetry

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])

    def enable() -> None:
        telemetry.enable(tracer_provider=tracer_provider, meter_provider=meter_provider)

    def disable() -> None:
        telemetry.disable()
        exporter.clear()
    return enable, disable


def _nothing() -> None:
    pass


class Mode:
    """One way of dispatching, with its own store and its next command."""

    def __init__(self, name: str, root: str, commands: int) -> None:
        from incident_core import Application
        from incident_core.examples.bank import domain
        from incident_core.examples.bank.accounts import DepositMoney, OpenAccount

        self.name = name
        self.app = Application.open(os.path.join(root, f"{name}.sqlite3"), domain, create=True)
        accounts = [f"acc-{n}" for n in range(max(1, commands // 100))]
        for account in accounts:
            self.app.dispatch(OpenAccount(aggregate_id=account))
        self.commands = [DepositMoney(aggregate_id=accounts[i % len(accounts)], amount=1)
                         for i in range(commands)]
        self.done = 0
        self.before, self.after = _nothing, _nothing
        if name == "enabled":
            self.before, self.after = _sdk()

    def block(self, size: int) -> float:
        todo = self.commands[self.done:self.done + size]
        self.done += size
        dispatch = self.app.dispatch
        self.before()
        started = time.process_time()
        for command in todo:
            if not dispatch(command).ok:
                raise AssertionError(f"rejected: {command}")
        spent = time.process_time() - started
        self.after()
        return spent / len(todo) * 1e6


class Raw:
    name = "raw"

    def __init__(self, root: str, commands: int) -> None:
        self.conn = raw_connect(os.path.join(root, "raw.sqlite3"), "FULL")
        self.conn.execute(DDL)
        self.rows = per_command_dataset(commands)
        self.done = 0

    def block(self, size: int) -> float:
        todo = self.rows[self.done:self.done + size]
        self.done += size
        started = time.process_time()
        raw_a2(self.conn, todo)
        return (time.process_time() - started) / len(todo) * 1e6


def worker(kind: str, commands: int, block: int, root: str) -> dict[str, list[float]]:
    if kind != "installed":
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]  # as if not installed
    modes: list[Any] = [Raw(root, commands)]
    modes += [Mode(name, root, commands) for name in WORKERS[kind]]
    figures: dict[str, list[float]] = {m.name: [] for m in modes}
    for turn in range(commands // block):
        for i in range(len(modes)):
            mode = modes[(turn + i) % len(modes)]
            figures[mode.name].append(mode.block(block))
    loaded = [m for m, module in sys.modules.items()
              if m.startswith("opentelemetry") and module is not None]
    figures["_otel_modules"] = [float(len(loaded))]
    return figures


def hooked() -> bool:
    """Whether the incident_core measured carries the telemetry hooks."""
    import incident_core

    return (Path(incident_core.__file__).parent / "telemetry.py").exists()


# -- the driver ---------------------------------------------------------------------------
def run_worker(kind: str, args: argparse.Namespace) -> dict[str, list[float]]:
    root = tempfile.mkdtemp(prefix="incident_otel_", dir=args.dir)
    env = dict(os.environ)
    if kind == "baseline":
        env["PYTHONPATH"] = os.pathsep.join([args.baseline, str(ROOT)])
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", kind, "--commands",
                              str(args.commands), "--block", str(args.block), "--dir", root],
                             capture_output=True, text=True, env=env, check=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures: dict[str, list[float]] = json.loads(out.stdout)
    return figures


def summary(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commands", type=int, default=2000, help="per mode, per round")
    ap.add_argument("--block", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    ap.add_argument("--baseline", help="a directory holding incident_core without the hooks")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        figures = worker(args.worker, args.commands, args.block, args.dir)
        figures["_hooked"] = [float(hooked())]
        print(json.dumps(figures))
        return 0
    kinds = ["installed", "absent"] + (["baseline"] if args.baseline else [])
    all_figures: dict[str, list[float]] = {}
    raw: list[float] = []
    for round_ in range(args.rounds):
        for i in range(len(kinds)):
            kind = kinds[(round_ + i) % len(kinds)]
            figures = run_worker(kind, args)
            raw += figures.pop("raw")
            if figures.pop("_hooked")[0] != (kind != "baseline"):
                raise SystemExit("--baseline must hold an incident_core without telemetry")
            if figures.pop("_otel_modules")[0] and kind != "installed":
                raise SystemExit(f"{kind}: OpenTelemetry was imported")
            for name, values in figures.items():
                all_figures.setdefault(name, []).extend(values)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; "
          f"{args.rounds} rounds x {args.commands} commands, blocks of {args.block}, "
          f"stores in {args.dir}")
    raw_median = statistics.median(raw)
    print(f"{'mode':<10} {'min':>8} {'median':>8} {'max':>8}  µs CPU/command  ratio raw/mode")
    for name, values in [("raw a2", raw), *sorted(all_figures.items())]:
        low, mid, high = summary(values)
        print(f"{name:<10} {low:8.1f} {mid:8.1f} {high:8.1f}  {'':14} {raw_median / mid:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
