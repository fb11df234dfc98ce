"""The rebuild process (`incident_core.operations.rebuild_child`): it gives the rows a
replay gives, answers progress and its ending as JSON lines, and a cancelled or killed child
leaves the store exactly as it was (real SQLite files, kill -9)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application
from incident_core.engine.binding import open_application
from incident_core.examples.bank import bank_accounts
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.demo import demo
from incident_core.operations.rebuild_child import (
    CHILD_FLAG,
    ChildRequest,
    child_command,
    report_from_json,
)
from incident_core.progress import run_to_end

BANK = "incident_core.examples.bank:domain"
NAMES = ["bank_accounts", "transfers"]

# A domain whose projection prints (to stdout: it must not reach the answers) and raises.
FAULTY = textwrap.dedent('''
    from pydantic import BaseModel
    from incident_core import Aggregate, Command, Domain, Event, Projection, State

    class Add(Command):
        by: int = 1

    class Added(Event):
        by: int

    class Total(State):
        value: int = 0

    counter = Aggregate("Counter", Total())

    @counter.executes(Add)
    def add(state, cmd):
        return Added(by=cmd.by)

    @counter.applies(Added)
    def added(state, event):
        return Total(value=state.value + event.by)

    class Row(BaseModel):
        aggregate_id: str
        total: int

    totals = Projection("totals", Row)
    FAIL = []

    @totals.on(Added)
    def on_added(row, event, recorded):
        print("{not json from a handler")
        if FAIL and event.by == 7:
            raise ValueError("seven is not a total")
        return Row(aggregate_id=recorded.aggregate_id, total=(row.total if row else 0) + event.by)

    domain = Domain("faulty", aggregates=[counter], projections=[totals])
''')


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bank store big enough that a replay takes a while (≈ 50k events)."""
    path = tmp_path_factory.mktemp("child") / "bank.sqlite3"
    app = open_application(str(path), bank_domain, module=BANK, create=True).app
    with app:
        run_to_end(demo(app, accounts=300, transfers=10_000, seed=3))
    return path


@pytest.fixture
def store(seeded: Path, tmp_path: Path) -> Path:
    path = tmp_path / "bank.sqlite3"
    path.write_bytes(seeded.read_bytes())
    return path


def start(target: str, domain: str = BANK, names: list[str] = NAMES,
          path: list[str] | None = None) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(child_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdin is not None
    child.stdin.write(ChildRequest(target, domain, names, path or list(sys.path)).to_line())
    child.stdin.flush()
    return child


def answers(child: subprocess.Popen[bytes]) -> list[dict[str, Any]]:
    """Every answer, up to the child's end (its stdin stays open meanwhile: closing it
    means the caller is gone, which cancels)."""
    assert child.stdout is not None and child.stdin is not None
    got = [json.loads(line) for line in child.stdout]
    child.stdin.close()
    child.wait(120)
    return got


def dump(path: Path) -> list[str]:
    """Every table's every row (events, streams, checkpoints, projections, lineage, meta)."""
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def tamper(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE bank_accounts SET balance = balance + 1")


def replayed_rows(path: Path) -> list[dict[str, Any]]:
    """bank_accounts as a replay in this process gives it (a scratch copy, rebuilt)."""
    copy = path.with_name("replayed.sqlite3")
    copy.write_bytes(path.read_bytes())
    from incident_core.operations.rebuild import rebuild

    with Application.open(str(copy), bank_domain) as app:
        run_to_end(rebuild(app, NAMES))
        return app.store.projection_rows(bank_accounts.spec)


def test_the_child_rebuilds_what_a_replay_gives(store: Path) -> None:
    tamper(store)
    expected = replayed_rows(store)
    got = answers(start(str(store)))
    assert all("progress" in a for a in got[:-1]) and len(got) >= 2
    report = report_from_json(got[-1]["finished"])
    assert [p.name for p in report.projections] == NAMES
    assert report.head == report.events_read > 40_000
    with Application.open(str(store), bank_domain, read_only=True) as app:
        assert app.store.projection_rows(bank_accounts.spec) == expected
        assert set(app.store.checkpoints().values()) == {report.head}


@pytest.mark.postgres
def test_the_child_rebuilds_a_postgresql_store(pg_url: str) -> None:
    """The URL (password and all) goes over stdin, never on the child's command line."""
    with open_application(pg_url, bank_domain, module=BANK, create=True).app as app:
        run_to_end(demo(app, accounts=20, transfers=200, seed=1))
        expected = app.store.projection_rows(bank_accounts.spec)
        with app.store.transaction() as tx:  # the rows made wrong behind the log's back
            tx.put_row(bank_accounts.spec, {**expected[0], "balance": -1})
        assert app.store.projection_rows(bank_accounts.spec) != expected
    got = answers(start(pg_url))
    assert "finished" in got[-1], got[-1]
    with Application.open(pg_url, bank_domain, read_only=True) as app:
        assert app.store.projection_rows(bank_accounts.spec) == expected


def _kill_mid_replay(store: Path, how: str) -> dict[str, Any] | None:
    """Start a rebuild, stop it (a `cancel` line or kill -9) while it replays; its last
    answer (None when killed)."""
    child = start(str(store))
    assert child.stdout is not None and child.stdin is not None
    for line in child.stdout:
        done, total, _message = json.loads(line)["progress"]
        if 0 < done < total:
            break
    else:
        pytest.fail("the child never reported a replay under way")
    if how == "kill":
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        assert child.returncode == -signal.SIGKILL
        return None
    child.stdin.write(b"cancel\n")
    child.stdin.flush()
    last = [json.loads(line) for line in child.stdout][-1]
    child.wait(30)
    return last


@pytest.mark.parametrize("how", ["kill", "cancel"])
def test_a_stopped_child_leaves_the_store_as_it_was(store: Path, how: str) -> None:
    tamper(store)  # a rebuild that swapped would show: it would undo this
    before = dump(store)
    last = _kill_mid_replay(store, how)
    if how == "cancel":
        assert last == {"cancelled": True}
    assert dump(store) == before
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with Application.open(str(store), bank_domain) as app:  # and it opens as before
        assert app.store.projection_rows(bank_accounts.spec)[0]["balance"] >= 1


def test_domain_code_that_raises_comes_back_as_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "faulty_domain.py").write_text(FAULTY)
    sys.path.insert(0, str(tmp_path))
    try:
        import faulty_domain

        target = str(tmp_path / "faulty.sqlite3")
        spec = "faulty_domain:domain"
        with open_application(target, faulty_domain.domain, module=spec, create=True).app as app:
            app.dispatch_many([faulty_domain.Add(aggregate_id=f"c{n}", by=n) for n in range(10)])
        (tmp_path / "faulty_domain.py").write_text(FAULTY.replace("FAIL = []", "FAIL = [1]"))
        child = start(target, spec, ["totals"], [str(tmp_path), *sys.path])
        got = answers(child)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("faulty_domain", None)
    assert child.returncode == 1
    failure = got[-1]["errored"]
    assert failure["kind"] == "domain"
    assert "projection totals" in failure["message"]
    assert "seven is not a total" in failure["message"]
    assert "Traceback" not in failure["message"] and "Traceback" in failure["details"]
    assert b"Traceback" not in child.stderr.read() if child.stderr else True


def test_a_domain_that_cannot_be_loaded_is_one_line(store: Path) -> None:
    got = answers(start(str(store), "no_such_module_here:domain"))
    failure = got[-1]["errored"]
    assert failure["kind"] == "domain" and "no_such_module_here" in failure["message"]
    assert "\n" not in failure["message"]


def test_the_inspectors_launcher_runs_the_child(store: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """In a bundle the child is the inspector's own executable given CHILD_FLAG alone: run
    the launcher's `main` that way, as the frozen executable does."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/bundle/incident-inspector")
    assert child_command() == ["/bundle/incident-inspector", CHILD_FLAG]
    monkeypatch.undo()
    launcher = [sys.executable, "-c",
                "import sys; from incident_gui.launch import main; sys.exit(main())", CHILD_FLAG]
    child = subprocess.Popen(launcher, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdin is not None
    child.stdin.write(ChildRequest(str(store), BANK, ["transfers"], list(sys.path)).to_line())
    child.stdin.flush()
    got = answers(child)
    assert child.returncode == 0 and "finished" in got[-1]
    assert report_from_json(got[-1]["finished"]).projections[0].name == "transfers"
