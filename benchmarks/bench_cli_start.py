"""`incident events --limit 1` as a whole process, before and after, interleaved.

Each round runs, in turn: the `incident` of every interpreter given (`--python NAME=PATH`, e.g.
one per installed copy), a raw `sqlite3` one-liner that reads and prints the first event, and
`python -c pass`. Prints wall time and CPU time (user + system of the child) per command,
min / median / max over the rounds, and the load average.

    python benchmarks/bench_cli_start.py STORE --python before=/work/main/.venv/bin/python \\
        --python after=.venv/bin/python --rounds 9
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

RAW = ("import sqlite3,json,sys;c=sqlite3.connect(sys.argv[1]);print(json.dumps(c.execute("
       "'SELECT * FROM incident_events ORDER BY position LIMIT 1').fetchall()))")


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # from "/": `python -m` puts the working directory first on the path, which would import
    # a checkout found there instead of the installed copy being measured
    done = subprocess.run(command, capture_output=True, env=env, check=False, cwd="/")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed: {done.stderr.decode()[-300:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall * 1e3, cpu * 1e3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store")
    ap.add_argument("--python", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args(argv)
    pythons = dict(p.split("=", 1) for p in args.python) or {"this": sys.executable}
    store = os.path.abspath(args.store)
    commands = {name: [os.path.abspath(path), "-m", "incident_core.cli", "--db", store, "events",
                       "--limit", "1"] for name, path in pythons.items()}
    commands["raw"] = [sys.executable, "-c", RAW, os.path.abspath(args.store)]
    commands["pass"] = [sys.executable, "-c", "pass"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENT_")}
    found: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in commands}
    print("loadavg", os.getloadavg())
    for _ in range(args.rounds):
        for name, command in commands.items():
            wall, cpu = timed(command, env)
            found[name][0].append(wall)
            found[name][1].append(cpu)
    for name, (walls, cpus) in found.items():
        print(f"{name:8} wall ms min/median/max {min(walls):6.0f} {statistics.median(walls):6.0f}"
              f" {max(walls):6.0f}   cpu ms {min(cpus):5.0f} {statistics.median(cpus):5.0f}"
              f" {max(cpus):5.0f}")
    print("loadavg", os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
