"""The shared writer: processes that open one SQLite store with `shared_writer=True` forward
their commands to one elected writer process, whose group commit they share. Results come
back as the writer had them; a rejection or a raising command never disturbs another
process's; a writer killed mid-batch loses no acknowledged command and duplicates none; a
follower with another domain writes directly."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application, IncidentError
from incident_core.engine import writer_protocol as wire
from incident_core.engine.results import Conflicted, DomainCodeError
from incident_core.engine.shared_writer import socket_address
from incident_core.envelope import RecordedEvent
from incident_core.errors import ConcurrencyError, StoreError
from incident_core.operations import verify
from incident_core.process import Accepted, Rejected
from incident_core.progress import run_to_end
from tests import shared_writer_domain as s
from tests import trust_domain as t
from tests.hardening_support import NOBODY, needs_root

WORKER = Path(__file__).with_name("shared_writer_worker.py")
ROOT = Path(__file__).parent.parent


def test_results_cross_the_socket_as_the_writer_had_them(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    writer = Application.open(db, s.domain, create=True, shared_writer=True)
    follower = Application.open(db, s.domain, shared_writer=True)
    try:
        assert writer.shared_writer and writer.shared_writer.serving
        assert follower.shared_writer and not follower.shared_writer.serving
        heard: list[RecordedEvent] = []
        follower.subscribe(heard.extend)
        accepted = follower.dispatch(s.Put(aggregate_id="a", n=3), metadata={"who": "me"})
        assert isinstance(accepted, Accepted) and not accepted.replayed
        assert accepted.events == follower.store.read_stream("a") == heard
        assert accepted.events[0].metadata["who"] == "me"
        assert follower.dispatch(s.Put(aggregate_id="a", n=-1)) == Rejected("negative")
        with pytest.raises(DomainCodeError) as raised:
            follower.dispatch(s.Put(aggregate_id="a", n=13))
        assert str(raised.value) == "projection boxes on Putted raised ValueError: unlucky"
        assert raised.value.where == "projection boxes on Putted"
        assert isinstance(raised.value.original, ValueError)
        first = follower.dispatch(s.Put(aggregate_id="a", n=4), idempotency_key="k")
        again = follower.dispatch(s.Put(aggregate_id="a", n=4), idempotency_key="k")
        assert isinstance(again, Accepted) and again.replayed and again.events == first.events
        with pytest.raises(IncidentError, match="was used for Put on 'a'"):
            follower.dispatch(s.Put(aggregate_id="b", n=4), idempotency_key="k")
        assert follower.shared_writer.forwarded == 6
        assert len(heard) == 2  # its own commits, not the replay
        assert writer.store.head() == 2
    finally:
        follower.close()
        writer.close()


def test_a_follower_takes_over_when_the_writer_closes(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    Path(socket_address(db)).write_text("a killed writer's socket")  # stale: cleaned up
    writer = Application.open(db, s.domain, create=True, shared_writer=True)
    follower = Application.open(db, s.domain, shared_writer=True)
    try:
        assert follower.dispatch(s.Put(aggregate_id="a", n=1)).ok
        writer.close()
        assert follower.dispatch(s.Put(aggregate_id="a", n=2)).ok
        assert follower.shared_writer is not None and follower.shared_writer.serving
        assert [e.data["n"] for e in follower.store.read_stream("a")] == [1, 2]
    finally:
        follower.close()
    assert not Path(socket_address(db)).exists()


def test_a_long_path_gets_an_abstract_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    db = str(deep / "s.sqlite3")
    assert socket_address(db).startswith("\0")
    with Application.open(db, s.domain, create=True, shared_writer=True) as writer, \
            Application.open(db, s.domain, shared_writer=True) as follower:
        assert writer.shared_writer and writer.shared_writer.serving
        assert follower.dispatch(s.Put(aggregate_id="a", n=1)).ok
        assert follower.shared_writer and follower.shared_writer.forwarded == 1


def start(db: Path, proc: int, commands: int, variant: str = "same",
          gate: Path | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, str(WORKER), str(db), str(proc), str(commands), variant]
    process = subprocess.Popen(args + ([str(gate)] if gate else []), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    assert process.stdout.readline().startswith("ready"), "the worker did not start"
    return process


def go(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()


def finish(process: subprocess.Popen[str]) -> list[list[str]]:
    out, _ = process.communicate(timeout=240)
    return [line.split() for line in out.splitlines()]


def all_events(app: Application) -> list[RecordedEvent]:
    return [event for page in app.store.iter_events() for event in page]


def check_log(db: Path, acked: set[str], unacked_allowed: int) -> None:
    """Each command recorded once; every acknowledged one there; no rejected or raising
    one; projections and states equal a replay."""
    with Application.open(str(db), s.domain) as app:
        events = all_events(app)
        commands = Counter(e.metadata["command_id"] for e in events)
        assert max(commands.values()) == 1
        assert acked <= set(commands)
        assert len(set(commands) - acked) <= unacked_allowed
        assert not [e for e in events if e.data["n"] in (-1, 13)]
        assert run_to_end(verify(app)).ok
        for aggregate_id in {e.aggregate_id for e in events}:
            state = app.state(aggregate_id)
            assert state is not None
            assert state.state == s.BoxState(
                count=sum(1 for e in events if e.aggregate_id == aggregate_id),
                total=sum(e.data["n"] for e in events if e.aggregate_id == aggregate_id))


def test_eight_processes_share_one_writer(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite3"
    Application.open(str(db), s.domain, create=True).close()
    processes = [start(db, proc, 30) for proc in range(8)]
    go(processes)
    lines = [line for process in processes for line in finish(process)]
    assert all(process.returncode == 0 for process in processes)
    kinds = Counter(line[0] for line in lines)
    assert kinds["ok"] + kinds["rejected"] + kinds["error"] == 8 * 2 * 30
    assert kinds["rejected"] and kinds["error"] and kinds["ok"]
    assert {line[2] for line in lines if line[0] == "error"} == {"DomainCodeError"}
    assert sum(int(line[1]) for line in lines if line[0] == "stats") > 0  # forwarded
    check_log(db, {line[1] for line in lines if line[0] == "ok"}, unacked_allowed=0)


def test_kill_9_of_the_writer_mid_batch(tmp_path: Path) -> None:
    db = tmp_path / "k.sqlite3"
    Application.open(str(db), s.domain, create=True).close()
    writer = start(db, 0, 30, gate=tmp_path)  # first: it wins the election
    followers = [start(db, proc, 30, gate=tmp_path) for proc in range(1, 8)]
    go([writer, *followers])
    entered = tmp_path / "entered"
    deadline = time.monotonic() + 120
    while not (entered.exists() and entered.read_text()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert int(entered.read_text()) == writer.pid  # the batch is open in the writer
    time.sleep(0.5)  # the followers' commands pile up behind it
    os.kill(writer.pid, signal.SIGKILL)
    killed = finish(writer)
    lines = [line for process in followers for line in finish(process)]
    assert all(process.returncode == 0 for process in followers)
    assert len([line for line in lines if line[0] != "stats"]) == 7 * 2 * 30
    assert sum(int(line[2]) for line in lines if line[0] == "stats") > 0  # sent again
    acked = {line[1] for line in lines + killed if line[0] == "ok"}
    check_log(db, acked, unacked_allowed=2)  # the killed writer's own two threads
    with Application.open(str(db), s.domain) as app:
        held = [e for e in all_events(app) if e.data["n"] == 99]
        assert len(held) == 1 and held[0].event_id in {line[2] for line in lines if line[0] == "ok"}


def test_a_follower_with_another_domain_writes_directly(tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite3"
    with Application.open(str(db), s.domain, create=True, shared_writer=True) as app:
        other, same = start(db, 2, 10, "other"), start(db, 3, 10, "same")
        go([other, same])
        other_lines, same_lines = finish(other), finish(same)
        assert ["stats", "0", "0"] in other_lines  # nothing forwarded
        assert ["stats", "0", "0"] not in same_lines
        acked = {line[1] for line in other_lines + same_lines if line[0] == "ok"}
        assert acked and acked <= {e.metadata["command_id"] for e in all_events(app)}


def dispatch_in_fork(app: Application, results: Any) -> None:
    """In a forked child: the inherited shared writer forwards to the parent's."""
    outcome = app.dispatch(s.Put(aggregate_id="forked", n=7))
    assert app.shared_writer is not None
    results.put((outcome.ok, app.shared_writer.serving, app.shared_writer.forwarded))


@pytest.mark.process
def test_a_forked_child_forwards_to_its_parent(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    with Application.open(str(tmp_path / "f.sqlite3"), s.domain, create=True,
                          shared_writer=True) as app:
        assert app.dispatch(s.Put(aggregate_id="forked", n=1)).ok
        results = context.Queue()
        child = context.Process(target=dispatch_in_fork, args=(app, results))
        child.start()
        assert results.get(timeout=60) == (True, False, 1)
        child.join(timeout=60)
        assert child.exitcode == 0
        assert app.shared_writer is not None and app.shared_writer.serving
        assert app.dispatch(s.Put(aggregate_id="forked", n=2)).ok
        assert [e.data["n"] for e in app.store.read_stream("forked")] == [1, 7, 2]


@needs_root
def test_another_users_process_is_not_served() -> None:
    """An abstract socket has no file permissions: the writer checks the peer's user."""
    with tempfile.TemporaryDirectory() as top:  # tmp_path's parents are private
        deep = Path(top) / ("d" * 60) / ("e" * 60)
        deep.mkdir(parents=True)
        for folder in (deep, deep.parent, Path(top)):
            folder.chmod(0o777)
        as_nobody(deep / "u.sqlite3")


def as_nobody(db: Path) -> None:
    Application.open(str(db), s.domain, create=True).close()
    db.chmod(0o666)  # SQLite gives its -wal and -shm files the store's permissions
    with Application.open(str(db), s.domain, shared_writer=True) as app:
        assert app.shared_writer and app.shared_writer.serving
        Path(f"{db}.writer.lock").chmod(0o666)
        nobody = subprocess.Popen(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
             sys.executable, str(WORKER), str(db), "4", "5", "same"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT)
        out, err = nobody.communicate("go\n", timeout=120)
        assert nobody.returncode == 0 and "Traceback" not in err, err
        lines = [line.split() for line in out.splitlines()]
        assert ["stats", "0", "0"] in lines  # written directly
        acked = {line[1] for line in lines if line[0] == "ok"}
        assert acked and acked <= {e.metadata["command_id"] for e in all_events(app)}


def test_saga_failures_come_back_as_the_writer_parked_them(tmp_path: Path) -> None:
    db = str(tmp_path / "t.sqlite3")
    t.FAIL["auditor"] = True
    try:
        with Application.open(db, t.domain, create=True, shared_writer=True) as writer, \
                Application.open(db, t.domain, shared_writer=True) as follower:
            ledger_id = uuid.uuid4()
            result = follower.dispatch(t.Post(aggregate_id=ledger_id,
                                              legs=[t.Leg(account="boom", amount=1)]))
            assert follower.shared_writer and follower.shared_writer.forwarded == 1
            assert isinstance(result, Accepted) and len(result.saga_failures) == 1
            assert list(result.saga_failures) == writer.parked_steps()
            assert result.events == writer.store.read_stream(str(ledger_id))
    finally:
        t.FAIL["auditor"] = True


class PluginError(Exception):
    """Not the library's: comes back as an IncidentError with its message."""


@pytest.mark.parametrize("error", [
    ConcurrencyError("acc-1", 3), StoreError("the disk is full"), ValueError("bad"),
    DomainCodeError("aggregate Box", KeyError("x")), PluginError("plugged")])
def test_errors_are_raised_on_the_follower_as_the_writer_raised_them(error: Exception) -> None:
    reply = json.loads(json.dumps(wire.encode_error(error)))
    with pytest.raises(Exception) as raised:
        wire.decode_result(reply)
    rebuilt = raised.value
    assert str(rebuilt) == str(error)
    if isinstance(error, PluginError):
        assert type(rebuilt) is IncidentError
        return
    assert type(rebuilt) is type(error)
    assert {k: v for k, v in vars(rebuilt).items() if k != "original"} == {
        k: v for k, v in vars(error).items() if k != "original"}
    if isinstance(error, DomainCodeError):
        assert isinstance(rebuilt, DomainCodeError)
        assert type(rebuilt.original) is KeyError and str(rebuilt.original) == "'x'"


def test_a_conflict_comes_back_as_it_was() -> None:
    conflicted = Conflicted("acc-1", 10)
    assert wire.decode_result(json.loads(json.dumps(wire.encode_result(conflicted)))) == (
        conflicted)


def test_threads_that_come_and_go_share_connections(tmp_path: Path) -> None:
    db = str(tmp_path / "c.sqlite3")
    with Application.open(db, s.domain, create=True, shared_writer=True), \
            Application.open(db, s.domain, shared_writer=True) as follower:
        for n in range(20):  # a thread per request, one after another
            thread = threading.Thread(target=follower.dispatch,
                                      args=(s.Put(aggregate_id="a", n=n % 5),))
            thread.start()
            thread.join()
        assert follower.shared_writer is not None
        assert (follower.shared_writer.forwarded, follower.shared_writer.connections) == (20, 1)
        assert len(follower.store.read_stream("a")) == 20
