"""The cases of issue 11's table that `bench_core.py` adds to its original four.

* dispatch, durable and on tmpfs: raw `a2`, Incident and the `eventsourcing` peer run in ONE
  process, interleaved in small blocks (the order rotating every block) so that the disk's
  fsync swings hit every side alike;
* cold load of a 10,000-event aggregate (the 1,000 one is `a4`/`state` in `bench_core`);
* dispatch p99/max on a big store (behind `--tail-events N`);
* bytes on disk per event, `incident events --limit 1` as a whole process, memory retained
  per replayed event kept in a list;
* the peer's bulk save, cold load and replay.

Every function returns plain figures; `bench_core.py` keeps them per repetition.
"""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks._baseline import (
    DDL,
    INSERT_SQL,
    amount_for,
    encode,
    now_iso,
    raw_a3,
    raw_a4,
    raw_connect,
)
from incident_core import Application
from incident_core.examples.bank import DepositMoney, OpenAccount, domain

__all__ = ["PEER", "Side", "db_bytes", "dispatch_blocks", "events_cli_ms", "load_10k",
           "peer_bulk", "retained_per_event", "tail_latency"]

try:  # the peer, defined at module level so its topics resolve when events are read back
    from eventsourcing.application import Application as _ESApplication
    from eventsourcing.domain import Aggregate as _ESAggregate
    from eventsourcing.domain import event as _es_event
except ImportError:  # pragma: no cover - the peer is optional
    PEER = False
else:
    PEER = True

    class BankAccount(_ESAggregate):  # type: ignore[misc]
        @_es_event("Opened")
        def __init__(self, name: str) -> None:
            self.name = name
            self.balance = 0

        @_es_event("Deposited")
        def deposit(self, amount: int) -> None:
            self.balance += amount

    class BankApp(_ESApplication):  # type: ignore[misc]
        log_section_size = 1000


def peer_app(path: str) -> Any:
    os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
    os.environ["SQLITE_DBNAME"] = path
    return BankApp()


def db_bytes(path: str) -> int:
    """The database's size after a full checkpoint (WAL folded in): what the store costs."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))


# -- dispatch, interleaved ----------------------------------------------------------------
class Side:
    """One contender of the interleaved dispatch: `run(j0, j1)` does commands j0..j1-1."""

    def __init__(self, name: str, run: Callable[[int, int], None],
                 close: Callable[[], None]) -> None:
        self.name, self.run, self.close = name, run, close
        self.wall = self.cpu = 0.0
        self.latencies: list[float] = []


def raw_side(d: str, sync: str, streams: int) -> Side:
    conn = raw_connect(os.path.join(d, "raw.db"), sync)
    conn.execute(DDL)
    sids = [uuid.uuid4().hex for _ in range(streams)]
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT_SQL, [(s, 1, "Opened", "{}", now_iso()) for s in sids])
    conn.execute("COMMIT")
    ex = conn.execute

    def run(j0: int, j1: int) -> None:
        for j in range(j0, j1):
            v = j // streams + 2
            ex("BEGIN IMMEDIATE")
            ex(INSERT_SQL, (sids[j % streams], v, "Deposited", encode({"amount": amount_for(v)}),
                            now_iso()))
            ex("COMMIT")

    return Side("raw", run, conn.close)


def incident_side(d: str, sync: str, streams: int) -> tuple[Side, Application, list[str]]:
    app = Application.open(os.path.join(d, "store.sqlite3"), domain, create=True,
                           synchronous=sync)
    ids = [uuid.uuid4().hex for _ in range(streams)]
    app.dispatch_many([OpenAccount(aggregate_id=i) for i in ids])
    dispatch = app.dispatch

    def run(j0: int, j1: int) -> None:
        for j in range(j0, j1):
            if not dispatch(DepositMoney(aggregate_id=ids[j % streams],
                                         amount=amount_for(j // streams + 2))).ok:
                raise AssertionError("rejected")

    return Side("incident", run, app.close), app, ids


def peer_side(d: str, streams: int) -> Side:
    """The peer's command: trigger one event on an aggregate kept in memory, save it."""
    app = peer_app(os.path.join(d, "es.db"))
    accounts = [BankAccount(name=f"account-{k}") for k in range(streams)]
    app.save(*accounts)

    def run(j0: int, j1: int) -> None:
        for j in range(j0, j1):
            account = accounts[j % streams]
            account.deposit(amount=amount_for(j // streams + 2))
            app.save(account)

    return Side("peer", run, app.close)


def dispatch_blocks(base: str, sync: str, n_cmd: int, block: int, *, peer: bool,
                    on_store: Callable[[Application, list[str]], None] | None = None
                    ) -> dict[str, tuple[float, float]]:
    """(wall, cpu) per side for `n_cmd` commands, the sides taking turns every `block`."""
    d = tempfile.mkdtemp(prefix="dispatch_", dir=base)
    streams = max(1, n_cmd // 100)
    inc, app, ids = incident_side(d, sync, streams)
    sides = [raw_side(d, sync, streams), inc] + ([peer_side(d, streams)] if peer else [])
    try:
        for k, j0 in enumerate(range(0, n_cmd, block)):
            j1 = min(n_cmd, j0 + block)
            for side in sides[k % len(sides):] + sides[:k % len(sides)]:
                t0, c0 = time.perf_counter(), time.process_time()
                side.run(j0, j1)
                side.wall += time.perf_counter() - t0
                side.cpu += time.process_time() - c0
        if on_store is not None:
            on_store(app, ids)
    finally:
        for side in sides:
            side.close()
        shutil.rmtree(d)
    return {s.name: (s.wall, s.cpu) for s in sides}


def tail_latency(base: str, sync: str, n_events: int, n_cmd: int,
                 envelopes: Callable[[int], Iterator[list[dict[str, Any]]]]) -> dict[str, float]:
    """Per-command latency (ms) of `n_cmd` dispatches on a store already holding
    `n_events` imported events."""
    d = tempfile.mkdtemp(prefix="tail_", dir=base)
    try:
        with Application.open(os.path.join(d, "s.sqlite3"), domain, create=True,
                              synchronous=sync) as app:
            for part in envelopes(n_events):
                app.import_events(part)
            streams = max(1, n_cmd // 100)
            ids = [uuid.uuid4().hex for _ in range(streams)]
            app.dispatch_many([OpenAccount(aggregate_id=i) for i in ids])
            lat = []
            for j in range(n_cmd):
                t0 = time.perf_counter()
                app.dispatch(DepositMoney(aggregate_id=ids[j % streams], amount=1))
                lat.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(d)
    lat.sort()
    return {"p50_ms": 1e3 * lat[len(lat) // 2], "p99_ms": 1e3 * lat[int(len(lat) * 0.99)],
            "max_ms": 1e3 * lat[-1]}


# -- cold loads, memory, start-up, the peer's bulk cases ------------------------------------
def load_10k(base: str, sync: str, length: int = 10_000) -> dict[str, float]:
    """Best-of-5 cold load (seconds) of one `length`-event stream: raw, Incident, peer."""
    d = tempfile.mkdtemp(prefix="load10k_", dir=base)
    out: dict[str, float] = {}
    try:
        sid = uuid.uuid4().hex
        raw = raw_connect(os.path.join(d, "raw.db"), sync)
        raw.execute(DDL)
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany(INSERT_SQL, [(sid, v, "Deposited", encode({"amount": amount_for(v)}),
                                      now_iso()) for v in range(1, length + 1)])
        raw.execute("COMMIT")
        out["raw"] = best(lambda: raw_a4(raw, sid))
        raw.close()
        with Application.open(os.path.join(d, "s.sqlite3"), domain, create=True,
                              synchronous=sync) as app:
            app.dispatch(OpenAccount(aggregate_id=sid))
            rec = now_iso()
            app.import_events([
                {"event_id": str(uuid.uuid4()), "aggregate_id": sid, "aggregate_type": "Account",
                 "event_type": "MoneyDeposited", "version": v, "recorded_at": rec,
                 "schema_version": 1, "data": {"amount": amount_for(v)}, "metadata": {}}
                for v in range(2, length + 1)])
        with Application.open(os.path.join(d, "s.sqlite3"), domain, read_only=True) as app:
            out["incident"] = best(lambda: app.state(sid))
        if PEER:
            es = peer_app(os.path.join(d, "es.db"))
            account = BankAccount(name="big")
            for v in range(2, length + 1):
                account.deposit(amount=amount_for(v))
            es.save(account)
            out["peer"] = best(lambda: es.repository.get(account.id))
            es.close()
    finally:
        shutil.rmtree(d)
    return out


def best(fn: Callable[[], Any], k: int = 5) -> float:
    times = []
    for _ in range(k):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def retained_per_event(build: Callable[[], list[Any]]) -> float:
    """Bytes still allocated per element of the list `build` returns, while it is kept."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / max(1, len(kept))


def raw_retained(path: str, sync: str) -> float:
    conn = raw_connect(path, sync)
    try:
        return retained_per_event(lambda: raw_a3(conn))
    finally:
        conn.close()


def events_cli_ms(store_path: str, runs: int = 7) -> dict[str, float]:
    """Median wall time (ms) of `incident events --limit 1` as a whole process, next to the
    same interpreter running a raw sqlite3 `SELECT ... LIMIT 1` and printing it."""
    env = dict(os.environ)
    incident = [sys.executable, "-m", "incident_core.cli", "--db", store_path,
                "events", "--limit", "1"]
    raw = [sys.executable, "-c",
           "import sqlite3,json,sys;c=sqlite3.connect(sys.argv[1]);"
           "print(json.dumps(c.execute('SELECT * FROM incident_events ORDER BY position "
           "LIMIT 1').fetchall()))", store_path]
    out: dict[str, list[float]] = {"incident": [], "raw": [], "python": []}
    for _ in range(runs):
        for name, cmd in (("incident", incident), ("raw", raw),
                          ("python", [sys.executable, "-c", "pass"])):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, check=False)
            out[name].append(1e3 * (time.perf_counter() - t0))
            if done.returncode != 0:
                raise AssertionError(f"{cmd} failed: {done.stderr.decode()[-300:]}")
    return {k: statistics.median(v) for k, v in out.items()}


def peer_bulk(base: str, layout: list[int]) -> dict[str, float]:
    """The peer's bulk save of the bulk workload (s), bytes/event, replay (s), cold load of
    the 1,000-event aggregate (s), retained bytes per replayed event."""
    d = tempfile.mkdtemp(prefix="es_", dir=base)
    path = os.path.join(d, "events.db")
    app = peer_app(path)
    try:
        aggs = []
        for i, length in enumerate(layout):
            a = BankAccount(name=f"account-{i}")
            for v in range(2, length + 1):
                a.deposit(amount=amount_for(v))
            aggs.append(a)
        n, big_id = sum(layout), aggs[0].id
        gc.collect()
        t0 = time.perf_counter()
        app.save(*aggs)
        out = {"import_s": time.perf_counter() - t0}
        del aggs
        out["bytes_per_event"] = db_bytes(path) / n

        def replay() -> list[Any]:
            kept: list[Any] = []
            to_domain, start = app.mapper.to_domain_event, 1
            while True:
                batch = app.notification_log.select(start=start, limit=1000)
                kept.extend(map(to_domain, batch))
                if len(batch) < 1000:
                    return kept
                start = batch[-1].id + 1

        gc.collect()
        t0 = time.perf_counter()
        assert len(replay()) == n
        out["replay_s"] = time.perf_counter() - t0
        out["load_1k_s"] = best(lambda: app.repository.get(big_id))
        out["retained_b"] = retained_per_event(replay)
        return out
    finally:
        app.close()
        shutil.rmtree(d)
