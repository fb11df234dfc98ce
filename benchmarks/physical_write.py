"""What a dispatch's physical write costs: raw sqlite3 replaying the exact statements of a
bank `DepositMoney` on today's schema (BEGIN IMMEDIATE, PRAGMA data_version, the projection
row's upsert, the event's insert, the stream's upsert, COMMIT) on /dev/shm, with and
without each piece and each optional index of the events table, beside the raw baseline's
`a2` transaction (one table, one unique index). CPU per transaction (min/median/max over
interleaved blocks) and WAL pages per commit (from the WAL's growth, auto-checkpoints off).
The difference between `incident (as dispatched)` and `prof_dispatch.py`'s CPU per dispatch
is the command path's Python.

    python benchmarks/physical_write.py [--base 20000] [--rounds 8] [--block 200] [--dir D]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchmarks._baseline import DDL, INSERT_SQL, now_iso
from incident_core import Application
from incident_core.examples.bank import OpenAccount, domain
from incident_core.ids import new_id

ACCOUNTS = 200
INSERT = ("INSERT INTO incident_events (position, recorded_at, checksum, version, "
          "schema_version, event_id, aggregate_id, aggregate_type, event_type, command_id, "
          "causation_id, correlation_id, command_type, data, metadata) VALUES "
          "(?, ?, -1086860416, ?, 1, ?, ?, 'Account', 'MoneyDeposited', ?, NULL, NULL, "
          "'DepositMoney', '{\"amount\":1}', '{}')")
ROW = ("INSERT INTO bank_accounts (aggregate_id, account_number, balance, version, event_id, "
       "event_date) VALUES (?, ?, ?, ?, ?, '2026-12-01T15:35:03.862446Z') ON CONFLICT "
       "(aggregate_id) DO UPDATE SET account_number = excluded.account_number, balance = "
       "excluded.balance, version = excluded.version, event_id = excluded.event_id, "
       "event_date = excluded.event_date")
STREAM = ("INSERT INTO incident_streams (aggregate_id, aggregate_type, version, event_count, "
          "last_recorded_at, last_position) VALUES (?, 'Account', ?, 1, "
          "'2026-12-01T15:35:03.862446+00:00', ?) ON CONFLICT (aggregate_id) DO UPDATE SET "
          "version = excluded.version, event_count = (incident_streams.event_count + "
          "excluded.event_count), last_recorded_at = excluded.last_recorded_at, "
          "last_position = excluded.last_position")
ALL = ("command", "type", "event_id")
# A direct command's id is its first event's id: a one-event command stores no command id
# (NULL). `stored_command_id`: the command id of its own (before that change).
VARIANTS: dict[str, dict[str, Any]] = {
    "incident (as dispatched)": {},
    "+ a command id of its own (before)": {"stored_command_id": True},
    "- PRAGMA data_version": {"no_pragma": True},
    "- stream upsert": {"no_stream": True},
    "- projection row": {"no_row": True},
    "- command_id index": {"drop": ("command",)},
    "- (event_type, position) index": {"drop": ("type",)},
    "- event_id unique index": {"drop": ("event_id",)},
    "- stream - row - all three indexes": {"drop": ALL, "no_row": True, "no_stream": True},
    "page size 1024 (a new store's choice)": {"page_size": 1024},
    "page size 2048": {"page_size": 2048},
}


def _without_event_id_unique(conn: sqlite3.Connection) -> None:
    ddl = conn.execute("SELECT sql FROM sqlite_master "
                       "WHERE name = 'incident_events'").fetchone()[0]
    indexes = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                          "AND tbl_name = 'incident_events' AND sql IS NOT NULL")]
    ddl = ddl.replace(", \n\tCONSTRAINT incident_events_event_id UNIQUE (event_id)", "")
    conn.execute(ddl.replace("TABLE incident_events", "TABLE events_copy"))
    conn.execute("INSERT INTO events_copy SELECT * FROM incident_events")
    conn.execute("DROP TABLE incident_events")
    conn.execute("ALTER TABLE events_copy RENAME TO incident_events")
    for sql in indexes:
        conn.execute(sql)


class Variant:
    """One copy of the store, written the variant's way."""

    def __init__(self, folder: str, source: str, spec: dict[str, Any], base: int) -> None:
        self.path = os.path.join(folder, f"{len(os.listdir(folder))}.sqlite3")
        shutil.copy(source, self.path)
        self.spec = spec
        conn = self.conn = sqlite3.connect(self.path, isolation_level=None)
        if spec.get("page_size"):
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute(f"PRAGMA page_size = {spec['page_size']}")
            conn.execute("VACUUM")
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        self.page = conn.execute("PRAGMA page_size").fetchone()[0]
        drop = spec.get("drop", ())
        for index in ("command", "type"):
            if index in drop:
                conn.execute(f"DROP INDEX incident_events_{index}")
        if "event_id" in drop:
            _without_event_id_unique(conn)
        self.versions = {a: 1 for a in range(ACCOUNTS)}
        self.position = conn.execute("SELECT max(position) FROM incident_events").fetchone()[0]
        conn.execute("BEGIN")
        while self.position < base:
            self._event(new_id())
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA wal_autocheckpoint = 0")

    def _event(self, event_id: str) -> tuple[int, int, str]:
        self.position += 1
        account = self.position % ACCOUNTS
        version = self.versions[account] = self.versions[account] + 1
        key = f"acc-{account}"
        command_id = new_id() if self.spec.get("stored_command_id") else None
        self.conn.execute(INSERT, (self.position, 1796139303862446 + self.position, version,
                                   event_id, key, command_id))
        return version, self.position, key

    def command(self) -> None:
        conn, spec = self.conn, self.spec
        conn.execute("BEGIN IMMEDIATE")
        if not spec.get("no_pragma"):
            conn.execute("PRAGMA data_version").fetchone()
        key = f"acc-{(self.position + 1) % ACCOUNTS}"
        event_id = new_id()
        if not spec.get("no_row"):
            conn.execute(ROW, (key, key, self.position, self.position, event_id))
        version, position, key = self._event(event_id)
        if not spec.get("no_stream"):
            conn.execute(STREAM, (key, version, position))
        conn.execute("COMMIT")


class RawA2:
    """The raw baseline's `a2` transaction (benchmarks/_baseline.py)."""

    def __init__(self, folder: str, base: int) -> None:
        self.path = os.path.join(folder, "raw.db")
        conn = self.conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(DDL)
        self.n = 0
        conn.execute("BEGIN")
        while self.n < base:
            self._insert()
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA wal_autocheckpoint = 0")

    def _insert(self) -> None:
        self.n += 1
        self.conn.execute(INSERT_SQL, (f"s{self.n % ACCOUNTS}", self.n // ACCOUNTS + 1,
                                       "Deposited", json.dumps({"amount": 1}), now_iso()))

    def command(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self._insert()
        self.conn.execute("COMMIT")


def source_store(folder: str) -> str:
    path = os.path.join(folder, "source.sqlite3")
    with Application.open(path, domain, create=True) as app:
        for n in range(ACCOUNTS):
            app.dispatch(OpenAccount(aggregate_id=f"acc-{n}"))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=int, default=20000, help="events in the store first")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--block", type=int, default=200, help="transactions per block")
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where the stores go (default /dev/shm; a disk folder for fsyncs)")
    args = ap.parse_args()
    folder = tempfile.mkdtemp(dir=args.dir)
    try:
        source = source_store(folder)
        runs: dict[str, Any] = {"raw a2": RawA2(folder, args.base)}
        runs.update((name, Variant(folder, source, spec, args.base))
                    for name, spec in VARIANTS.items())
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        wall: dict[str, list[float]] = {name: [] for name in runs}
        pages: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                wal = os.path.getsize(run.path + "-wal")
                start, started = time.process_time(), time.perf_counter()
                for _ in range(args.block):
                    run.command()
                cpu[name].append((time.process_time() - start) / args.block * 1e6)
                wall[name].append((time.perf_counter() - started) / args.block * 1e6)
                grown = os.path.getsize(run.path + "-wal") - wal
                pages[name].append(grown / (getattr(run, "page", 4096) + 24) / args.block)
                run.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"sqlite {sqlite3.sqlite_version}, {args.base} events first, "
              f"{args.rounds} x {args.block} transactions, load {os.getloadavg()[0]:.2f}")
        print(f"{'variant':38s} {'CPU µs/txn min / median / max':>30s} "
              f"{'wall µs median':>14s} {'WAL pages':>10s}")
        for name in runs:
            x = cpu[name]
            print(f"{name:38s} {min(x):9.1f} {statistics.median(x):9.1f} {max(x):9.1f} "
                  f"{statistics.median(wall[name]):14.1f} {statistics.median(pages[name]):10.2f}")
        for run in runs.values():
            run.conn.close()
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
