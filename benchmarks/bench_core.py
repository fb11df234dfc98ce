#!/usr/bin/env python3
"""Incident's core against the raw sqlite3 baseline, measured in ONE process run.

    python benchmarks/bench_core.py [--events N] [--commands N] [--reps R] [--json out.json]
    python benchmarks/bench_core.py --profile prof/      # cProfile each Incident case once

Every figure is the best of --reps repetitions, each on a fresh file-backed SQLite database
(WAL, synchronous=FULL unless --synchronous says otherwise) in a temp dir on disk. Each
Incident figure is also given as a ratio to the raw sqlite3 figure of the same workload from
the same run, so the speed of the machine mostly cancels out. Raw and Incident repetitions
are interleaved (and their order alternates) so a slow spell on a shared machine hits both.

Cases (raw ids as in shared/bench/sqlite_peer_bench.py):
  a1  raw bulk insert, one transaction, executemany            <- import (target 0.6)
  a2  raw insert, one durable transaction per event            <- dispatch (target 0.5)
  a3  raw read all in position order + json decode             <- replay (target 0.8), rebuild
  a4  raw read one 1000-event stream + json decode             <- state (cold load)
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import inspect
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import event as sa_event
from sqlalchemy.pool import Pool

if __package__ in (None, ""):  # run as a script: make `benchmarks._baseline` importable
    sys.path.append(str(Path(__file__).resolve().parent.parent))

import incident_core
from benchmarks import _more as more
from benchmarks._baseline import (
    DDL,
    STREAM_LEN,
    Row,
    bulk_dataset,
    now_iso,
    pragmas,
    raw_a1,
    raw_a3,
    raw_a4,
    raw_connect,
    stream_layout,
)
from benchmarks._more import db_bytes
from incident_core import Application, RecordedEvent
from incident_core.examples.bank import DepositMoney, domain
from incident_core.progress import Operation, run_to_end
from incident_core.projections import DELETE

T = TypeVar("T")
READ_INNER = 5  # the small reads (a4 / state) are repeated this often per rep; min taken
REBUILT_PROJECTION = "bank_accounts"
OPEN_META = {"command_type": "OpenAccount"}
DEPOSIT_META = {"command_type": "DepositMoney"}


# -- results --------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    label: str
    family: str
    events: int
    ratio_to: str | None = None
    target: float | None = None
    note: str = ""
    reps_s: list[float] = field(default_factory=list)
    reps_cpu_s: list[float] = field(default_factory=list)
    best_s: float = 0.0
    cpu_s_of_best: float = 0.0
    events_per_s: float = 0.0
    spread_pct: float = 0.0
    ratio: float | None = None
    cpu_us_per_event: float = 0.0
    cpu_ratio: float | None = None
    ratio_per_rep: list[float] | None = None
    met: bool | None = None
    median_eps: float = 0.0
    worst_eps: float = 0.0


class Results:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        # figures that are not throughputs: name -> (unit, label, values per repetition)
        self.figures: dict[str, tuple[str, str, list[float]]] = {}

    def figure(self, name: str, unit: str, label: str, value: float) -> None:
        self.figures.setdefault(name, (unit, label, []))[2].append(value)

    def add(self, cid: str, label: str, family: str, events: int, wall: float, cpu: float, *,
            ratio_to: str | None = None, target: float | None = None, note: str = "") -> None:
        case = self.cases.get(cid)
        if case is None:
            case = self.cases[cid] = Case(cid, label, family, events, ratio_to, target, note)
        case.reps_s.append(wall)
        case.reps_cpu_s.append(cpu)

    def finalize(self) -> None:
        for c in self.cases.values():
            c.best_s = min(c.reps_s)
            c.cpu_s_of_best = c.reps_cpu_s[c.reps_s.index(c.best_s)]
            c.events_per_s = c.events / c.best_s if c.best_s > 0 else float("inf")
            c.spread_pct = 100.0 * (max(c.reps_s) - c.best_s) / c.best_s if c.best_s else 0.0
            c.cpu_us_per_event = 1e6 * min(c.reps_cpu_s) / c.events
            c.median_eps = c.events / statistics.median(c.reps_s)
            c.worst_eps = c.events / max(c.reps_s)
        for c in self.cases.values():
            ref = self.cases.get(c.ratio_to) if c.ratio_to else None
            if ref is None:
                continue
            c.ratio = c.events_per_s / ref.events_per_s
            if c.cpu_us_per_event > 0:
                c.cpu_ratio = ref.cpu_us_per_event / c.cpu_us_per_event
            # paired per-repetition ratios: same rep index = measured close in time
            c.ratio_per_rep = [round((c.events / mine) / (ref.events / theirs), 4)
                               for mine, theirs in zip(c.reps_s, ref.reps_s, strict=False)]
            if c.target is not None:
                c.met = c.ratio >= c.target

    def ordered(self) -> list[Case]:
        order = {"raw": 0, "incident": 1, "peer": 2}
        return sorted(self.cases.values(), key=lambda c: (order.get(c.family, 2),))


Measure = Callable[[str, Callable[[], T]], tuple[float, float, T]]


def timed(_cid: str, fn: Callable[[], T]) -> tuple[float, float, T]:
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t0, time.process_time() - c0, result


class Profiler:
    """A `Measure` that runs each case under cProfile and keeps the stats per case."""

    def __init__(self, out_dir: Path, top: int) -> None:
        self.out_dir = out_dir
        self.top = top
        self.summaries: dict[str, str] = {}

    def __call__(self, cid: str, fn: Callable[[], T]) -> tuple[float, float, T]:
        if cid in self.summaries:  # profile only the first run of a repeated case
            return timed(cid, fn)
        profile = cProfile.Profile()
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        profile.enable()
        result = fn()
        profile.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        profile.dump_stats(str(self.out_dir / f"{cid}.prof"))
        text = io.StringIO()
        text.write(f"# {cid}: {wall:.3f}s wall, {cpu:.3f}s cpu under cProfile\n")
        for key in ("tottime", "cumulative"):
            stats = pstats.Stats(profile, stream=text)
            stats.strip_dirs().sort_stats(key).print_stats(self.top)
        self.summaries[cid] = text.getvalue()
        (self.out_dir / f"{cid}.txt").write_text(self.summaries[cid])
        return wall, cpu, result


# -- raw sqlite3 ----------------------------------------------------------------------------
def run_raw(res: Results, n: int, n_cmd: int, base: str, sync: str, settings: dict[str, Any],
            measure: Measure[Any] = timed) -> None:
    d = tempfile.mkdtemp(prefix="raw_", dir=base)
    path = os.path.join(d, "events.db")
    ds = bulk_dataset(n)
    big_sid = ds[0][0]
    w = raw_connect(path, sync)
    w.execute(DDL)
    settings["raw_sqlite3"] = pragmas(lambda q: w.execute(q).fetchone()[0])
    wall, cpu, _ = measure("a1", lambda: raw_a1(w, ds))
    res.add("a1", "raw bulk insert, 1 txn, executemany", "raw", n, wall, cpu)
    assert w.execute("SELECT count(*) FROM events").fetchone()[0] == n
    w.close()
    res.figure("bytes_raw", "B/event", "raw sqlite3: bytes on disk per event", db_bytes(path) / n)
    res.figure("mem_raw", "B/event", "raw sqlite3: memory retained per replayed event",
               more.raw_retained(path, sync))
    r = raw_connect(path, sync)
    wall, cpu, out = measure("a3", lambda: raw_a3(r))
    assert len(out) == n
    del out
    res.add("a3", "raw read all in position order + json decode", "raw", n, wall, cpu)
    big = min(stream_layout(n)[0], n)
    wall, cpu = best_of(READ_INNER, lambda: measure("a4", lambda: raw_a4(r, big_sid)),
                        lambda out: len(out) == big)
    res.add("a4", f"raw read one {big}-event stream + json decode", "raw", big, wall, cpu)
    r.close()
    shutil.rmtree(d)


def best_of(k: int, run: Callable[[], tuple[float, float, Any]],
            check: Callable[[Any], bool]) -> tuple[float, float]:
    best: tuple[float, float] | None = None
    for _ in range(k):
        wall, cpu, out = run()
        assert check(out)
        if best is None or wall < best[0]:
            best = (wall, cpu)
    assert best is not None
    return best


# -- Incident -------------------------------------------------------------------------------
def bank_envelopes(dataset: list[Row], recorded_at: str) -> list[dict[str, Any]]:
    """The bulk workload as exported bank events (what `import` reads from a file)."""
    out = []
    for sid, version, kind, payload in dataset:
        event_id = str(uuid.uuid4())
        if kind == "Opened":
            event_type, data, meta = "AccountOpened", {"account_number": payload["name"]}, OPEN_META
        else:
            event_type, data, meta = "MoneyDeposited", payload, DEPOSIT_META
        out.append({
            "event_id": event_id, "aggregate_id": sid, "aggregate_type": "Account",
            "event_type": event_type, "version": version, "recorded_at": recorded_at,
            "schema_version": 1, "data": data,
            "metadata": {"correlation_id": event_id, "causation_id": event_id,
                         "command_id": event_id, **meta},
        })
    return out


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def find_operation(module: str, name: str) -> Callable[..., Any] | None:
    """An operation of `incident_core.operations`, if this version of the core has it."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def drive(result: Any) -> Any:
    """Run a long operation (a generator yielding Progress) to its end; pass others through."""
    if inspect.isgenerator(result):
        return run_to_end(cast(Operation[Any], result))
    return result


IMPORT_OPERATION = ("incident_core.operations.export_import", "import_events")


def import_file(app: Application, lines: list[str]) -> None:
    """The import operation (what `incident import FILE` runs) over NDJSON lines."""
    operation = find_operation(*IMPORT_OPERATION)
    assert operation is not None
    drive(operation(app, lines))


def import_api(app: Application, envelopes: list[dict[str, Any]], batch: int) -> None:
    """`Application.import_events` on decoded envelopes, `batch` per transaction."""
    for part in chunks(envelopes, batch):
        app.import_events(part)


def fresh_app(base: str, prefix: str, sync: str) -> tuple[Application, str]:
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    app = Application.open(os.path.join(d, "store.sqlite3"), domain, create=True,
                           synchronous=sync)
    return app, d


def replay(app: Application) -> list[RecordedEvent]:
    """Every event in position order with its data decoded (touched, in case the core
    decodes it lazily), kept like the raw baseline keeps its decoded dicts."""
    out: list[RecordedEvent] = []
    for batch in app.store.iter_events():
        for rec in batch:
            rec.data  # noqa: B018
        out.extend(batch)
    return out


def typed_decoder(app: Application) -> Callable[[RecordedEvent], Any]:
    """The core's way from a recorded event to its domain event."""
    domain_ = app.domain
    by_recorded = getattr(domain_, "decode_recorded", None)
    if callable(by_recorded):
        return cast(Callable[[RecordedEvent], Any], by_recorded)
    return lambda rec: domain_.decode(rec.event_type, rec.data, rec.schema_version)


def replay_typed(app: Application) -> int:
    decode = typed_decoder(app)
    n = 0
    for batch in app.store.iter_events():
        for rec in batch:
            decode(rec)
            n += 1
    return n


def rebuild(app: Application, name: str) -> None:
    """The rebuild operation when the core has one; otherwise the same work done with the
    core's public primitives: replay, `Projection.step` in memory, `replace_projection`."""
    operation = find_operation("incident_core.operations.rebuild", "rebuild")
    if operation is not None:
        drive(operation(app, [name]))
        return
    projection = app.projection(name)
    head = app.store.head()
    decode = typed_decoder(app)
    buffer_type = getattr(importlib.import_module("incident_core.projections.definition"),
                          "RowBuffer", None)
    if buffer_type is not None:  # rows kept as models, dumped once each
        buffer = buffer_type(projection, lambda _keys: {})
        for batch in app.store.iter_events(up_to=head):
            for rec in batch:
                if projection.handles(rec.event_type):
                    event = decode(rec)
                    buffer.apply(projection.key_for(rec, event), rec, event)
        app.replace_projection(name, buffer.dumped_rows(), head)
        return
    rows: dict[str, dict[str, Any]] = {}
    for batch in app.store.iter_events(up_to=head):
        for rec in batch:
            if not projection.handles(rec.event_type):
                continue
            event = decode(rec)
            key = projection.key_for(rec, event)
            result = projection.step(rows.get(key), rec, event)
            if result is DELETE:
                rows.pop(key, None)
            elif isinstance(result, dict):
                rows[key] = result
    app.replace_projection(name, rows.values(), head)


def dispatch_all(app: Application, commands: list[DepositMoney]) -> int:
    dispatch = app.dispatch
    for command in commands:
        if not dispatch(command).ok:
            raise AssertionError(f"rejected: {command}")
    return len(commands)


def statements_per_command(path: str, ids: list[str], sync: str, n: int = 50) -> float:
    """How many SQL statements one dispatch runs on SQLite, BEGIN and COMMIT included, seen
    by the driver's trace hook whatever layer sent them (untimed diagnostic, on a second
    Application over the dispatch store, its cache warmed first)."""
    count = [0]
    counting = [False]

    def trace(_statement: str) -> None:
        if counting[0]:
            count[0] += 1

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(trace)

    sa_event.listen(Pool, "connect", on_connect)
    try:
        with Application.open(path, domain, synchronous=sync) as app:
            dispatch_all(app, [DepositMoney(aggregate_id=i, amount=1) for i in ids])
            commands = [DepositMoney(aggregate_id=ids[j % len(ids)], amount=1) for j in range(n)]
            counting[0] = True
            dispatch_all(app, commands)
            counting[0] = False
    finally:
        sa_event.remove(Pool, "connect", on_connect)
    return count[0] / n


def incident_pragmas(app: Application) -> dict[str, Any]:
    engine = getattr(app.store, "engine", None)
    if engine is None:
        return {}
    with engine.connect() as conn:
        found = pragmas(lambda q: conn.exec_driver_sql(q).scalar())
        conn.rollback()
    return found


def run_incident(res: Results, n: int, n_cmd: int, base: str, sync: str, import_batch: int,
                 settings: dict[str, Any], diagnostics: dict[str, Any],
                 measure: Measure[Any] = timed) -> None:
    # import + replay + state + rebuild on one fresh store
    ds = bulk_dataset(n)
    big_sid = ds[0][0]
    envelopes = bank_envelopes(ds, now_iso())
    batch = import_batch or n
    has_operation = find_operation(*IMPORT_OPERATION) is not None
    if has_operation:  # the file import; the bare API below on a store of its own
        app, d = fresh_app(base, "incident_api_", sync)
        wall, cpu, _ = measure("import_api", lambda: import_api(app, envelopes, batch))
        assert app.store.event_count() == n
        res.add("import_api", f"Application.import_events, batches of {batch} (no file checks)",
                "incident", n, wall, cpu, ratio_to="a1", note="extra: the store write path alone")
        app.close()
        shutil.rmtree(d)
    app, d = fresh_app(base, "incident_", sync)
    settings["incident"] = incident_pragmas(app)
    if has_operation:
        lines = [json.dumps(e) for e in envelopes]
        wall, cpu, _ = measure("import", lambda: import_file(app, lines))
        label = "import operation: NDJSON lines, checked, then written"
    else:
        wall, cpu, _ = measure("import", lambda: import_api(app, envelopes, batch))
        label = f"import: Application.import_events, batches of {batch}"
    assert app.store.event_count() == n
    res.add("import", label, "incident", n, wall, cpu, ratio_to="a1", target=0.6,
            note="includes projecting the imported events")
    res.figure("bytes_incident", "B/event", "Incident: bytes on disk per event",
               db_bytes(os.path.join(d, "store.sqlite3")) / n)
    wall, cpu, out = measure("replay", lambda: replay(app))
    assert len(out) == n and isinstance(out[-1].data, dict)
    del out
    res.figure("mem_incident", "B/event", "Incident: memory retained per replayed event",
               more.retained_per_event(lambda: replay(app)))
    for side, ms in more.events_cli_ms(os.path.join(d, "store.sqlite3")).items():
        res.figure(f"cli_{side}", "ms", CLI_LABELS[side], ms)
    res.add("replay", "replay: store.iter_events() -> RecordedEvent (data decoded)", "incident",
            n, wall, cpu, ratio_to="a3", target=0.8)
    wall, cpu, count = measure("replay_typed", lambda: replay_typed(app))
    assert count == n
    res.add("replay_typed", "replay + domain.decode to typed pydantic events", "incident", n,
            wall, cpu, ratio_to="a3", note="extra: what folding/projecting code pays per event")
    big = stream_layout(n)[0]

    def load() -> tuple[float, float, Any]:
        return measure("state", lambda: app.state(big_sid))

    wall, cpu = best_of(READ_INNER, load, lambda s: s is not None and s.version == big)
    res.add("state", f"Application.state() cold: read {big} events + decode + fold", "incident",
            big, wall, cpu, ratio_to="a4")
    wall, cpu, _ = measure("rebuild", lambda: rebuild(app, REBUILT_PROJECTION))
    res.add("rebuild", f"rebuild projection {REBUILT_PROJECTION} (replay, fold rows, swap)",
            "incident", n, wall, cpu, ratio_to="a3", note="extra")
    app.close()
    shutil.rmtree(d)


CLI_LABELS = {"incident": "`incident events --limit 1`, whole process (median of 7)",
              "raw": "python -c: sqlite3 SELECT ... LIMIT 1 + print (median of 7)",
              "python": "python -c pass (interpreter start-up, median of 7)"}


def run_dispatch(res: Results, n_cmd: int, base: str, sync: str, block: int,
                 diagnostics: dict[str, Any], shm: str | None, *, on_disk: bool = True) -> None:
    """Durable dispatch (`on_disk`) and on tmpfs (`shm`), raw a2 / Incident / peer
    interleaved in blocks."""
    def diagnose(app: Application, ids: list[str]) -> None:
        if "statements_per_command" not in diagnostics:
            diagnostics["statements_per_command"] = statements_per_command(
                app.store.target, ids, sync)

    where = (([("", base, diagnose)] if on_disk else [])
             + ([("_shm", shm, None)] if shm else []))
    for suffix, root, hook in where:
        figures = more.dispatch_blocks(root, sync, n_cmd, block, peer=more.PEER,
                                       on_store=hook)
        disk = "tmpfs" if suffix else "disk"
        res.add(f"a2{suffix}", f"raw insert, 1 durable txn per event ({disk})", "raw", n_cmd,
                *figures["raw"])
        res.add(f"dispatch{suffix}", f"Application.dispatch(DepositMoney) ({disk}, blocks of "
                f"{block})", "incident", n_cmd, *figures["incident"], ratio_to=f"a2{suffix}",
                target=0.3 if suffix else 0.6)
        if "peer" in figures:
            res.add(f"peer_dispatch{suffix}", f"eventsourcing: deposit + app.save ({disk})",
                    "peer", n_cmd, *figures["peer"], ratio_to=f"a2{suffix}")


def run_other(res: Results, n: int, base: str, sync: str, tail: int, n_cmd: int) -> None:
    """The 10,000-event cold load, the peer's bulk cases and (flag) the tail latency."""
    loads = more.load_10k(base, sync)
    res.add("a4_10k", "raw read one 10000-event stream + json decode", "raw", 10_000,
            loads["raw"], 0.0)
    res.add("state_10k", "Application.state() cold, 10000-event aggregate", "incident", 10_000,
            loads["incident"], 0.0, ratio_to="a4_10k", target=0.5)
    if "peer" in loads:
        res.add("peer_load_10k", "eventsourcing: repository.get(), 10000 events", "peer",
                10_000, loads["peer"], 0.0, ratio_to="a4_10k")
    if more.PEER:
        peer = more.peer_bulk(base, stream_layout(n))
        res.add("peer_import", "eventsourcing: app.save(*aggregates), 1 txn", "peer", n,
                peer["import_s"], 0.0, ratio_to="a1")
        res.add("peer_replay", "eventsourcing: notification_log.select + to_domain_event",
                "peer", n, peer["replay_s"], 0.0, ratio_to="a3")
        res.add("peer_load", "eventsourcing: repository.get(), 1000 events", "peer",
                stream_layout(n)[0], peer["load_1k_s"], 0.0, ratio_to="a4")
        res.figure("bytes_peer", "B/event", "eventsourcing: bytes on disk per event",
                   peer["bytes_per_event"])
        res.figure("mem_peer", "B/event", "eventsourcing: memory retained per replayed event",
                   peer["retained_b"])
    if tail:
        found = more.tail_latency(base, sync, tail, n_cmd,
                                  lambda k: chunks(bank_envelopes(bulk_dataset(k), now_iso()),
                                                   2000))
        for key, value in found.items():
            res.figure(f"tail_{key}", "ms", f"dispatch {key[:-3]} at a {tail}-event store",
                       value)


def run_1m(res: Results, base: str, sync: str, n: int = 1_000_000) -> None:
    """Raw a1 + a3 and Incident import_api + replay at a million events (the flag)."""
    ds = bulk_dataset(n)
    d = tempfile.mkdtemp(prefix="raw1m_", dir=base)
    conn = raw_connect(os.path.join(d, "events.db"), sync)
    conn.execute(DDL)
    raw_a1(conn, ds)
    wall, cpu, out = timed("a3_1m", lambda: raw_a3(conn))
    del out
    conn.close()
    shutil.rmtree(d)
    res.add("a3_1m", "raw read all + json decode, 1M events", "raw", n, wall, cpu)
    app, d = fresh_app(base, "incident1m_", sync)
    import_api(app, bank_envelopes(ds, now_iso()), 5000)
    del ds
    wall, cpu, replayed = timed("replay_1m", lambda: replay(app))
    assert len(replayed) == n
    del replayed
    app.close()
    shutil.rmtree(d)
    res.add("replay_1m", "replay 1M events: store.iter_events()", "incident", n, wall, cpu,
            ratio_to="a3_1m", target=0.8)


# -- reporting ------------------------------------------------------------------------------
def versions() -> dict[str, Any]:
    out: dict[str, Any] = {
        "python": sys.version.split()[0], "implementation": platform.python_implementation(),
        "sqlite3_lib": sqlite3.sqlite_version, "platform": platform.platform(),
        "cpu_count": os.cpu_count(), "incident_core": str(Path(incident_core.__file__).parent),
    }
    for pkg in ("sqlalchemy", "pydantic", "pydantic-core"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def fs_info(path: str) -> str:
    best = ("", "?")
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if path.startswith(parts[1]) and len(parts[1]) >= len(best[0]):
                    best = (parts[1], parts[2])
    except OSError:
        return "?"
    return f"{best[1]} mounted at {best[0]}"


def print_table(res: Results, meta: dict[str, Any]) -> None:
    print()
    print(f"Incident core vs raw sqlite3   events={meta['events']}  commands={meta['commands']}  "
          f"best of {meta['reps']}  synchronous={meta['synchronous']}  "
          f"(python {meta['versions']['python']}, sqlite {meta['versions']['sqlite3_lib']})")
    width = 62
    hdr = (f"{'case':17} {'what':{width}} {'events':>7} {'best s':>8} {'events/s':>11} "
           f"{'median ev/s':>11} {'worst ev/s':>11} "
           f"{'ratio':>6} {'vs':>3} {'target':>6} {'met?':>4} {'spread':>7} "
           f"{'cpu us/ev':>9} {'cpu ratio':>9}")
    print(hdr)
    print("-" * len(hdr))
    for c in res.ordered():
        ratio = "1.000" if c.family == "raw" else f"{c.ratio:.3f}" if c.ratio else "-"
        target = f"{c.target:.2f}" if c.target is not None else "-"
        met = "-" if c.met is None else "yes" if c.met else "NO"
        cpu_ratio = "1.000" if c.family == "raw" else (
            f"{c.cpu_ratio:.3f}" if c.cpu_ratio else "-")
        print(f"{c.id:17} {c.label[:width]:{width}} {c.events:>7} {c.best_s:>8.4f} "
              f"{c.events_per_s:>11,.0f} {c.median_eps:>11,.0f} {c.worst_eps:>11,.0f} {ratio:>6} "
              f"{c.ratio_to or '':>3} {target:>6} "
              f"{met:>4} {c.spread_pct:>6.1f}% {c.cpu_us_per_event:>9.1f} {cpu_ratio:>9}")
    print()
    print(f"{'figure':24} {'what':{width}} {'unit':>8} {'min':>9} {'median':>9} {'max':>9}")
    for name, (unit, label, values) in res.figures.items():
        print(f"{name:24} {label[:width]:{width}} {unit:>8} {min(values):>9.1f} "
              f"{statistics.median(values):>9.1f} {max(values):>9.1f}")
    spc = meta["diagnostics"].get("statements_per_command")
    if spc is not None:
        print(f"SQL statements per dispatch (driver trace, BEGIN/COMMIT included): {spc:.1f}"
              f"  (raw a2: 3)")
    print(f"loadavg start={meta['loadavg_start']} end={meta['loadavg_end']}  "
          f"tmpdir fs: {meta['tmpdir_fs']}  incident_core: {meta['versions']['incident_core']}")
    for fam, s in meta["settings"].items():
        print(f"[{fam}] " + ", ".join(f"{k}={v}" for k, v in s.items()))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=50_000,
                    help="events for import / replay / rebuild (default 50000, >= 1000)")
    ap.add_argument("--commands", type=int, default=5_000,
                    help="commands for dispatch, events for a2 (default 5000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions, best taken (default 3)")
    ap.add_argument("--import-batch", type=int, default=2_000,
                    help="envelopes per Application.import_events call (default 2000, as the "
                         "import operation; 0 = all in one call)")
    ap.add_argument("--block", type=int, default=100,
                    help="commands per turn in the interleaved dispatch (default 100)")
    ap.add_argument("--tail-events", type=int, default=0, metavar="N",
                    help="also measure dispatch p99/max on a store of N imported events")
    ap.add_argument("--replay-1m", action="store_true",
                    help="also import and replay 1,000,000 events (raw a1/a3 and Incident)")
    ap.add_argument("--no-shm", action="store_true", help="skip the dispatch on /dev/shm")
    ap.add_argument("--only", default=None, metavar="PARTS",
                    help="run only these parts, comma-separated, of: " + ", ".join(PARTS)
                         + " (e.g. --only dispatch,dispatch_shm: the dispatch rows alone)")
    ap.add_argument("--synchronous", default="FULL", help="PRAGMA synchronous (default FULL)")
    ap.add_argument("--tmpdir", default=None, help="parent dir of the temp stores")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    ap.add_argument("--profile", default=None, metavar="DIR",
                    help="instead of the table: cProfile each case once, write DIR/<case>.prof "
                         "and DIR/<case>.txt (top functions by tottime and cumulative)")
    ap.add_argument("--profile-top", type=int, default=30, help="functions listed per profile")
    args = ap.parse_args(argv)
    if args.events < 1000:
        ap.error("--events must be at least 1000 (the long stream has 1000 events)")
    if args.commands < 1 or args.reps < 1:
        ap.error("--commands and --reps must be positive")
    if args.only is not None:
        args.only = set(args.only.split(","))
        if unknown := args.only - set(PARTS):
            ap.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(PARTS)}")
    return args


PARTS = ("raw", "incident", "dispatch", "dispatch_shm", "other", "replay_1m")


def chosen_runners(args: argparse.Namespace, runners: dict[str, Callable[[], None]],
                   shm: str | None) -> dict[str, Callable[[], None]]:
    """The runners `--only` keeps (all without it); `dispatch` runs the disk and/or the
    tmpfs rows, as chosen."""
    only = args.only
    if only is None:
        return runners
    kept = {name: run for name, run in runners.items() if name in only}
    if "dispatch" in runners and only & {"dispatch", "dispatch_shm"}:
        kept["dispatch"] = runners["dispatch"]
    return kept


def profile_main(args: argparse.Namespace, base: str) -> int:
    out_dir = Path(args.profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(out_dir, args.profile_top)
    res = Results()
    settings: dict[str, Any] = {}
    run_incident(res, args.events, args.commands, base, args.synchronous, args.import_batch,
                 settings, {"statements_per_command": None}, profiler)
    for cid, text in profiler.summaries.items():
        head = text.splitlines()[0]
        print(f"{head}  -> {out_dir / cid}.txt")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = tempfile.mkdtemp(prefix="incident_bench_", dir=args.tmpdir)
    try:
        if args.profile:
            return profile_main(args, base)
        return bench_main(args, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def bench_main(args: argparse.Namespace, base: str) -> int:
    n, n_cmd = args.events, args.commands
    settings: dict[str, Any] = {}
    diagnostics: dict[str, Any] = {}
    res = Results()
    meta: dict[str, Any] = {
        "events": n, "commands": n_cmd, "reps": args.reps, "synchronous": args.synchronous,
        "import_batch": args.import_batch or n, "versions": versions(), "tmpdir": base,
        "tmpdir_fs": fs_info(base), "started_utc": now_iso(),
        "loadavg_start": tuple(round(x, 2) for x in os.getloadavg()),
        "workload": {
            "bulk": f"1 stream of {stream_layout(n)[0]} events + streams of {STREAM_LEN}, "
                    "written stream by stream (bank: AccountOpened then MoneyDeposited)",
            "per_command": f"{max(1, n_cmd // STREAM_LEN)} streams round-robin, one event per "
                           "command / transaction",
            "timing": "wall clock; best of reps, each rep on fresh store files; a4/state take "
                      f"the min of {READ_INNER} repeats within each rep",
        },
        "settings": settings, "diagnostics": diagnostics,
    }
    t_all = time.perf_counter()
    no_shm = args.no_shm or (args.only is not None and "dispatch_shm" not in args.only)
    shm = None if no_shm or not os.path.isdir("/dev/shm") else tempfile.mkdtemp(
        prefix="incident_bench_", dir="/dev/shm")
    disk = args.only is None or "dispatch" in args.only
    runners: dict[str, Callable[[], None]] = {
        "raw": lambda: run_raw(res, n, n_cmd, base, args.synchronous, settings),
        "incident": lambda: run_incident(res, n, n_cmd, base, args.synchronous,
                                         args.import_batch, settings, diagnostics),
        "dispatch": lambda: run_dispatch(res, n_cmd, base, args.synchronous, args.block,
                                         diagnostics, shm, on_disk=disk),
        "other": lambda: run_other(res, n, base, args.synchronous, args.tail_events, n_cmd),
    }
    if args.replay_1m or (args.only is not None and "replay_1m" in args.only):
        runners["replay_1m"] = lambda: run_1m(res, base, args.synchronous)
    runners = chosen_runners(args, runners, shm)
    families = list(runners)
    for rep in range(args.reps):
        k = rep % len(families)
        order = families[k:] + families[:k]
        for fam in order:
            print(f"rep {rep + 1}/{args.reps}: {fam} ...", file=sys.stderr, flush=True)
            runners[fam]()
    if shm:
        shutil.rmtree(shm, ignore_errors=True)
    res.finalize()
    meta["total_wall_s"] = round(time.perf_counter() - t_all, 1)
    meta["loadavg_end"] = tuple(round(x, 2) for x in os.getloadavg())
    print_table(res, meta)
    if args.json:
        with open(args.json, "w") as f:
            figures = {name: {"unit": unit, "label": label, "values": values}
                       for name, (unit, label, values) in res.figures.items()}
            json.dump({"meta": meta, "cases": [c.__dict__ for c in res.ordered()],
                       "figures": figures}, f, indent=2)
        print(f"wrote {args.json}")
    print(f"total {meta['total_wall_s']}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
