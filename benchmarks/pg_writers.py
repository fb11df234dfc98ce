"""PostgreSQL with one writer and with several (threads of one Application, group commit off
and on; processes), against raw psycopg doing one INSERT + COMMIT per event on 1 and N
connections. Run by `bench_sqlite_vs_postgres.py` (`--only-writers` runs these alone).

Per case: events/s (min / median / max over the repetitions), the median's ratio to raw
psycopg with as many connections as the case has writers, the WAL flushes per command
(`pg_stat_wal.wal_sync`: the fsyncs the server made, counted for the whole cluster) and,
for group commit, the commands per durable commit."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg

from incident_core import Application, open_store
from incident_core.examples.bank import DepositMoney, OpenAccount, domain

__all__ = ["run_writers"]


class Targets(Protocol):
    def fresh(self, backend: str) -> str: ...

    def drop(self, target: str) -> None: ...


def _writer_process(target: str, account: str, commands: int, ready: Any, go: Any,
                    out: Any) -> None:
    """One writer process: open, warm up, wait for the start, dispatch, report seconds."""
    with Application.open(target, domain) as app:
        app.dispatch(DepositMoney(aggregate_id=account, amount=1))  # warm: statements, cache
        ready.put(account)
        go.wait()
        began = time.perf_counter()
        for _ in range(commands):
            assert app.dispatch(DepositMoney(aggregate_id=account, amount=1)).ok
        out.put(time.perf_counter() - began)


def _thread_writers(app: Application, accounts: list[str], commands: int) -> float:
    """Seconds for len(accounts) threads of one Application to dispatch `commands` each."""
    start = threading.Barrier(len(accounts) + 1)

    def work(account: str) -> None:
        start.wait()
        for _ in range(commands):
            assert app.dispatch(DepositMoney(aggregate_id=account, amount=1)).ok

    pool = [threading.Thread(target=work, args=(a,)) for a in accounts]
    for t in pool:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - began


def _process_writers(target: str, accounts: list[str], commands: int) -> float:
    """Seconds from the common start until the last of len(accounts) processes is done."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_writer_process, args=(target, a, commands, ready, go, out))
             for a in accounts]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    began = time.perf_counter()
    go.set()
    for _ in procs:
        out.get(timeout=600)
    seconds = time.perf_counter() - began
    for p in procs:
        p.join()
    return seconds


def _raw_writers(url: str, writers: int, commands: int) -> float:
    """Seconds for `writers` threads, each on its own psycopg connection, to INSERT and
    COMMIT `commands` rows one at a time: the durable-commit limit of this server and disk
    (PostgreSQL flushes concurrent commits' WAL together by itself)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS raw_events (position BIGSERIAL PRIMARY KEY, "
                     "stream TEXT NOT NULL, version INT NOT NULL, data TEXT NOT NULL, "
                     "UNIQUE (stream, version))")
    start = threading.Barrier(writers + 1)

    def work(n: int) -> None:
        with psycopg.connect(conninfo) as conn:
            start.wait()
            for v in range(commands):
                conn.execute("INSERT INTO raw_events (stream, version, data) "
                             "VALUES (%s, %s, %s)", (f"s{n}", v, '{"amount":1}'))
                conn.commit()

    pool = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for t in pool:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - began


@dataclass
class Found:
    """One case's figures over the repetitions."""

    writers: int
    rates: list[float] = field(default_factory=list)  # events/s
    syncs: list[float] = field(default_factory=list)  # WAL flushes per command
    batches: list[float] = field(default_factory=list)  # commands per durable commit


Case = Callable[[str], tuple[float, float | None]]  # target -> (s/command, batch size)


def _wal_syncs(target: str) -> int:
    """The cluster's WAL flushes so far, once the sessions' statistics have been reported
    (a backend reports them at most once a second)."""
    time.sleep(1.1)
    conninfo = target.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(f"{conninfo}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()
    return int(row[0]) if row else 0


def _cases(writers: int, commands: int) -> list[tuple[str, int, Case]]:
    """(label, writers, run) of every case: raw psycopg first at each writer count."""
    accounts = [f"acc-{n}" for n in range(writers)]
    total = writers * commands

    def threads(group: bool) -> Case:
        def run(target: str) -> tuple[float, float | None]:
            with Application(open_store(target), domain, group_commit=group) as app:
                app.dispatch(DepositMoney(aggregate_id=accounts[0], amount=1))  # warm
                batches = app.group_commit.batches if app.group_commit else 0
                seconds = _thread_writers(app, accounts, commands) / total
                if app.group_commit is None:
                    return seconds, None
                return seconds, total / max(1, app.group_commit.batches - batches)
        return run

    def single(target: str) -> tuple[float, float | None]:
        with Application.open(target, domain) as app:
            app.dispatch(DepositMoney(aggregate_id=accounts[0], amount=1))  # warm
            return _thread_writers(app, accounts[:1], total) / total, None

    def processes(target: str) -> tuple[float, float | None]:
        return _process_writers(target, accounts, commands) / total, None

    def raw(n: int) -> Case:
        return lambda target: (_raw_writers(target, n, total // n) / total, None)

    return [("raw psycopg, 1 writer (INSERT + COMMIT)", 1, raw(1)), ("1 writer", 1, single),
            (f"raw psycopg, {writers} connections", writers, raw(writers)),
            (f"{writers} threads, group commit off", writers, threads(False)),
            (f"{writers} threads, group commit on", writers, threads(True)),
            (f"{writers} processes", writers, processes)]


def writers_case(found: dict[str, Found], targets: Targets, writers: int,
                 commands: int) -> None:
    """events/s of one PostgreSQL writer and of `writers` concurrent ones (threads with
    group commit off and on, processes), one fresh database per case, the cases' order
    rotated at each repetition (a slow spell of the shared machine hits them alike)."""
    accounts = [f"acc-{n}" for n in range(writers)]
    cases = _cases(writers, commands)
    rep = len(next(iter(found.values())).rates) if found else 0
    for label, n, run in cases[rep % len(cases):] + cases[:rep % len(cases)]:
        target = targets.fresh("postgres")
        with Application.open(target, domain, create=True) as app:
            app.dispatch_many([OpenAccount(aggregate_id=a) for a in accounts])
        before = _wal_syncs(target)
        seconds, batch = run(target)
        syncs = _wal_syncs(target) - before
        entry = found.setdefault(label, Found(n))
        entry.rates.append(1 / seconds)
        entry.syncs.append(syncs / (writers * commands))
        if batch is not None:
            entry.batches.append(batch)
        targets.drop(target)


def print_writers(found: dict[str, Found], writers: int, commands: int) -> None:
    raw = {f.writers: statistics.median(f.rates) for label, f in found.items()
           if label.startswith("raw")}
    print(f"\nPostgreSQL writers, one durable command (one event) each, {writers * commands} "
          f"commands per case")
    print(f"  {'case':<42} {'events/s: min':>13} {'median':>7} {'max':>7} {'vs raw':>7} "
          f"{'fsyncs/cmd':>10} {'cmds/commit':>11}")
    for label, f in found.items():
        median = statistics.median(f.rates)
        batch = f"{statistics.median(f.batches):>11.1f}" if f.batches else f"{'':>11}"
        print(f"  {label:<42} {min(f.rates):>13,.0f} {median:>7,.0f} {max(f.rates):>7,.0f} "
              f"{median / raw[f.writers]:>7.2f} {statistics.median(f.syncs):>10.2f} {batch}")
    print("  (vs raw: the median over raw psycopg's with as many connections as writers)")


def run_writers(args: argparse.Namespace, targets: Targets) -> dict[str, list[float]]:
    found: dict[str, Found] = {}
    for rep in range(args.reps):
        print(f"writers rep {rep + 1}/{args.reps} ...", file=sys.stderr, flush=True)
        writers_case(found, targets, args.writers, args.writer_commands)
    print_writers(found, args.writers, args.writer_commands)
    print(f"loadavg {tuple(round(x, 2) for x in os.getloadavg())}")
    return {label: f.rates for label, f in found.items()}
