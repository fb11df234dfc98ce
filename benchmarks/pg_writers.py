"""PostgreSQL with one writer and with several (threads of one Application, group commit off
and on; processes), against raw psycopg doing one INSERT + COMMIT per event on 1 and N
connections. Run by `bench_sqlite_vs_postgres.py` (`--only-writers` runs these alone)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
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


def writers_case(found: dict[str, list[float]], targets: Targets, writers: int,
                 commands: int) -> None:
    """events/s of one PostgreSQL writer and of `writers` concurrent ones (threads with
    group commit off and on, processes), one fresh database per case."""
    accounts = [f"acc-{n}" for n in range(writers)]
    cases: list[tuple[str, Callable[[str], float]]] = []
    for group in (False, True):
        def threads(target: str, group: bool = group) -> float:
            with Application(open_store(target), domain, group_commit=group) as app:
                app.dispatch(DepositMoney(aggregate_id=accounts[0], amount=1))  # warm
                return _thread_writers(app, accounts, commands) / (writers * commands)
        cases.append((f"{writers} threads, group commit {'on' if group else 'off'}", threads))

    def single(target: str) -> float:
        with Application.open(target, domain) as app:
            app.dispatch(DepositMoney(aggregate_id=accounts[0], amount=1))  # warm
            return _thread_writers(app, accounts[:1], writers * commands) / (writers * commands)

    def processes(target: str) -> float:
        return _process_writers(target, accounts, commands) / (writers * commands)

    def raw(n: int) -> Callable[[str], float]:
        def go(target: str) -> float:
            return _raw_writers(target, n, writers * commands // n) / (writers * commands)
        return go

    cases = [("raw psycopg, 1 writer (INSERT + COMMIT)", raw(1)), ("1 writer", single),
             (f"raw psycopg, {writers} connections", raw(writers)), *cases,
             (f"{writers} processes", processes)]
    rep = len(next(iter(found.values()), []))
    for label, run in cases[rep % len(cases):] + cases[:rep % len(cases)]:
        target = targets.fresh("postgres")
        with Application.open(target, domain, create=True) as app:
            app.dispatch_many([OpenAccount(aggregate_id=a) for a in accounts])
        found.setdefault(label, []).append(1 / run(target))
        targets.drop(target)


def print_writers(found: dict[str, list[float]], writers: int, commands: int) -> None:
    print(f"\nPostgreSQL writers, one durable command (one event) each, {commands} per "
          f"writer ({writers} writers)      events/s:      min     median        max")
    for label, values in found.items():
        print(f"  {label:<42} {min(values):>16,.0f} {statistics.median(values):>10,.0f} "
              f"{max(values):>10,.0f}")


def run_writers(args: argparse.Namespace, targets: Targets) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for rep in range(args.reps):
        print(f"writers rep {rep + 1}/{args.reps} ...", file=sys.stderr, flush=True)
        writers_case(found, targets, args.writers, args.writer_commands)
    print_writers(found, args.writers, args.writer_commands)
    print(f"loadavg {tuple(round(x, 2) for x in os.getloadavg())}")
    return found
