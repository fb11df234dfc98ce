#!/usr/bin/env python3
"""Bytes on disk per event, and where they go, for bench_core's 100k bank store.

    python benchmarks/bench_bytes.py [--events 100000] [--reps 2] [--ids v4,v7]

The store is made as bench_core makes it (`incident import` of exported bank events,
projections and row lineage included) and measured the same way (the file after a full WAL
checkpoint, `db_bytes`), next to raw sqlite3 (bench_core's a1 table). Each table and index
is then taken apart with SQLite's `dbstat` (pages, fill). `--ids v7` gives the exported
events time-ordered (UUIDv7) ids, as a store written by this version exports them; `v4`
keeps random ones (a file from elsewhere). Also shown: the log alone (events, their indexes,
streams) and the same log with its indexes packed (REINDEX + VACUUM, what a bulk load
that builds its indexes at the end would give). Import throughput is printed too; the
repetitions alternate the id kinds. `--upgrade` also times the upgrade of such a store from
schema 3 (made by `tests/schema_downgrade.py`) on SQLite and on a throwaway PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchmarks import bench_core
from benchmarks._baseline import DDL, bulk_dataset, now_iso, raw_a1, raw_connect
from benchmarks._more import db_bytes

LOG = ("incident_events", "sqlite_autoindex_incident_events_1",  # the guards: older stores'
       "sqlite_autoindex_incident_events_2", "incident_events_event_id",  # and named indexes
       "incident_events_stream_version", "incident_events_type", "incident_events_command",
       "incident_events_causation", "incident_events_correlation", "incident_streams",
       "incident_streams_type", "sqlite_autoindex_incident_streams_1")


def breakdown(path: str) -> dict[str, tuple[int, float]]:
    """name -> (bytes, fill) of every table and index."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sum(pgsize), sum(payload) FROM dbstat GROUP BY name")
        return {name: (size, payload / size if size else 0.0) for name, size, payload in rows}
    finally:
        conn.close()


def packed_log(path: str) -> int:
    """The log's bytes once its indexes are rebuilt in order and the file compacted."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("REINDEX")
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()
    found = breakdown(path)
    return sum(found.get(name, (0, 0.0))[0] for name in LOG)


def incident_store(base: str, n: int, ids: str) -> dict[str, Any]:
    envelopes = bench_core.bank_envelopes(bulk_dataset(n), now_iso())  # random (v4) ids
    if ids == "v7":  # imported here: with an older incident_core, `--ids v4` works too
        from incident_core.ids import new_id

        for e in envelopes:  # as exported from a store that made them: time-ordered
            made = e["event_id"] = new_id()
            e["metadata"].update(correlation_id=made, causation_id=made, command_id=made)
    lines = [json.dumps(e) for e in envelopes]
    app, folder = bench_core.fresh_app(base, "bytes_", "FULL")
    began, cpu = time.perf_counter(), time.process_time()
    bench_core.import_file(app, lines)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    app.close()
    path = os.path.join(folder, "store.sqlite3")
    total = db_bytes(path)
    parts = breakdown(path)
    log = sum(parts.get(name, (0, 0.0))[0] for name in LOG)
    packed = packed_log(path)
    shutil.rmtree(folder)
    return {"total": total / n, "log": log / n, "packed_log": packed / n,
            "parts": {k: (v[0] / n, v[1]) for k, v in parts.items()},
            "import_per_s": n / wall, "import_cpu_us": cpu / n * 1e6}


def raw_bytes(base: str, n: int) -> float:
    folder = tempfile.mkdtemp(prefix="raw_", dir=base)
    path = os.path.join(folder, "events.db")
    conn = raw_connect(path, "FULL")
    conn.execute(DDL)
    raw_a1(conn, bulk_dataset(n))
    conn.close()
    size = db_bytes(path)
    shutil.rmtree(folder)
    return size / n


def upgrade_seconds(target: str, n: int) -> float:
    """Seconds for a writable open to upgrade an `n`-event bank store from schema 3."""
    from incident_core import Application, open_store
    from incident_core.examples.bank import domain
    from incident_core.store.sql.store import SqlEventStore
    from tests.schema_downgrade import downgrade_to_3

    lines = [json.dumps(e) for e in bench_core.bank_envelopes(bulk_dataset(n), now_iso())]
    with Application.open(target, domain, create=True) as app:
        bench_core.import_file(app, lines)
        assert isinstance(app.store, SqlEventStore)
        downgrade_to_3(app.store)
    began = time.perf_counter()
    with open_store(target) as store:
        seconds = time.perf_counter() - began
        assert store.event_count() == n
    return seconds


def upgrades(base: str, n: int) -> None:
    from tests.pg_server import PostgresServer

    folder = tempfile.mkdtemp(prefix="upgrade_", dir=base)
    lite = upgrade_seconds(os.path.join(folder, "s.sqlite3"), n)
    server = PostgresServer()
    server.start()
    try:
        pg = upgrade_seconds(server.create_database("upgrade"), n)
    finally:
        server.stop()
    print(f"upgrade 3 -> 4 of {n:,} events: SQLite {lite:.1f} s, PostgreSQL {pg:.1f} s "
          f"(loadavg {os.getloadavg()[0]:.2f})")


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"{ordered[0]:>9,.1f} {ordered[len(ordered) // 2]:>9,.1f} "
            f"{ordered[-1]:>9,.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--ids", default="v4,v7", help="id kinds of the imported file")
    ap.add_argument("--upgrade", action="store_true", help="also time the 3 -> 4 upgrade")
    args = ap.parse_args()
    kinds = args.ids.split(",")
    base = tempfile.mkdtemp(prefix="incident_bytes_")
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    try:
        raw = raw_bytes(base, args.events)
        for rep in range(args.reps):
            for kind in kinds if rep % 2 == 0 else list(reversed(kinds)):
                runs[kind].append(incident_store(base, args.events, kind))
        if args.upgrade:
            upgrades(base, args.events)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{args.events:,} bank events, bytes per event            min       med       max"
          f"   (raw sqlite3: {raw:.1f}; loadavg {os.getloadavg()[0]:.2f})")
    for kind, found in runs.items():
        for key, label in (("total", "whole file (bench_core's bytes_incident)"),
                           ("log", "the log: events, its indexes, streams"),
                           ("packed_log", "the log, indexes packed (REINDEX+VACUUM)"),
                           ("import_per_s", "import, events/s"),
                           ("import_cpu_us", "import, CPU µs/event")):
            print(f"  ids {kind}  {label:<42} {spread([f[key] for f in found])}")
        print(f"  ids {kind}  where the bytes go (last run): B/event, page fill")
        parts = sorted(found[-1]["parts"].items(), key=lambda kv: -kv[1][0])
        for name, (size, fill) in parts:
            if size >= 0.5:
                print(f"      {name:<40} {size:>7.1f}  {fill:>4.0%}")


if __name__ == "__main__":
    main()
