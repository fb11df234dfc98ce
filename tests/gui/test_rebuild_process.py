"""The window rebuilds in a child process (its rows never in the window's process), falls
back to a thread where no child can open the store, and stops long reads when asked: a
cancelled read and a closing window never wait for a statement to finish."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QProgressBar

from incident_core import Application
from incident_core.engine.binding import open_application
from incident_core.examples.bank import bank_accounts
from incident_core.examples.bank import domain as bank_domain
from incident_core.progress import run_to_end
from incident_gui.tasks.child_worker import ChildWorker
from incident_gui.tasks.workers import active_workers

from .conftest import MessageBoxes

# Reads that run for minutes unless stopped: a billion made-up rows (no table needed).
ENDLESS = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
           "WHERE x < 1000000000) SELECT count(*) FROM n")

# A projection that raises on replay when FAULTY_REPLAY is set in the environment of the
# process that imports it (the child inherits it; the window imported it before).
FAULTY = textwrap.dedent('''
    import os
    from pydantic import BaseModel
    from incident_core import Aggregate, Command, Domain, Event, Projection, State

    FAIL = bool(os.environ.get("FAULTY_REPLAY"))

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

    @totals.on(Added)
    def on_added(row, event, recorded):
        if FAIL and event.by == 7:
            raise ValueError("seven is not a total")
        return Row(aggregate_id=recorded.aggregate_id, total=(row.total if row else 0) + event.by)

    domain = Domain("faulty", aggregates=[counter], projections=[totals])
''')


@pytest.fixture(autouse=True)
def workers_done(qtbot: Any) -> Iterator[None]:
    yield
    qtbot.waitUntil(lambda: active_workers() == [], timeout=15000)


def tamper(path: str) -> list[dict[str, Any]]:
    """Change every bank_accounts row behind the store's back; the rows a replay gives."""
    with Application.open(path, bank_domain, read_only=True) as app:
        rows = app.store.projection_rows(bank_accounts.spec)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE bank_accounts SET balance = balance + 1")
    return rows


def dump(path: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def shown(window: Any) -> Any:
    """The projections tab on screen (the window binds the store to it then)."""
    window.side_tabs.setCurrentWidget(window.projection_panel)
    window.projections.shown()
    return window.projection_panel


def rebuilt(qtbot: Any, window: Any) -> str:
    panel = window.projection_panel
    window.rebuild_projections()
    assert panel.is_rebuilding()
    qtbot.waitUntil(lambda: not panel.is_rebuilding(), timeout=60000)
    return str(panel.findChild(QLabel, "rebuildStatus").text())


def test_the_window_rebuilds_in_a_child_process(make_window: Callable[..., Any], qtbot: Any,
                                                 bank_store: str) -> None:
    expected = tamper(bank_store)
    window = make_window(bank_store)
    panel = shown(window)
    assert panel.rebuilds_in_child()
    status = rebuilt(qtbot, window)
    assert status.startswith("Rebuilt all projections"), status
    with Application.open(bank_store, bank_domain, read_only=True) as app:
        assert app.store.projection_rows(bank_accounts.spec) == expected
    # the window reads the rows the child wrote (its writer's cache knows someone wrote)
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=5000)
    panel.select_projection("bank_accounts")
    tab = panel.current_tab()
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0 and not panel.is_loading(), timeout=5000)
    assert tab.model.row(0) == expected[0]


def test_a_store_in_memory_rebuilds_on_a_thread(make_window: Callable[..., Any],
                                                qtbot: Any) -> None:
    window = make_window("memory:")
    panel = shown(window)
    assert not panel.rebuilds_in_child()
    assert rebuilt(qtbot, window).startswith("Rebuilt all projections")


def test_a_domain_made_in_memory_rebuilds_on_a_thread(
        make_window: Callable[..., Any], qtbot: Any, bank_store: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A domain module no child could import by name (made at run time, no file)."""
    module = types.ModuleType("bank_made_in_memory")
    module.domain = bank_domain  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bank_made_in_memory", module)
    expected = tamper(bank_store)
    window = make_window(bank_store, domain="bank_made_in_memory:domain")
    assert not shown(window).rebuilds_in_child()
    assert rebuilt(qtbot, window).startswith("Rebuilt all projections")
    with Application.open(bank_store, bank_domain, read_only=True) as app:
        assert app.store.projection_rows(bank_accounts.spec) == expected


@pytest.fixture(scope="module")
def big_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bank store whose replay takes a while (≈ 40k events)."""
    from incident_core.operations.demo import demo

    path = tmp_path_factory.mktemp("big") / "big.sqlite3"
    app = open_application(str(path), bank_domain,
                           module="incident_core.examples.bank:domain", create=True).app
    with app:
        run_to_end(demo(app, accounts=200, transfers=8000, seed=5))
    return path


@pytest.fixture
def big_store(big_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "big.sqlite3"
    shutil.copyfile(big_template, path)
    tamper(str(path))  # a rebuild that swapped would show: it would undo this
    return str(path)


def test_cancelling_the_child_leaves_the_store_as_it_was(
        make_window: Callable[..., Any], qtbot: Any, big_store: str) -> None:
    path = big_store
    window = make_window(path)
    before = dump(path)
    panel = window.projection_panel
    cancelled: list[bool] = []

    def cancel_on_replay(value: int) -> None:
        if not cancelled and value > 0:
            cancelled.append(True)
            panel.cancel_rebuild()

    progress = panel.findChild(QProgressBar, "rebuildProgress")
    progress.valueChanged.connect(cancel_on_replay)
    window.rebuild_projections()
    qtbot.waitUntil(lambda: not panel.is_rebuilding(), timeout=60000)
    status = panel.findChild(QLabel, "rebuildStatus").text()
    assert cancelled and "cancelled; the previous rows are kept" in status, status
    window.close()
    assert dump(path) == before


def test_closing_the_window_ends_the_rebuild_process(
        make_window: Callable[..., Any], qtbot: Any, big_store: str) -> None:
    window = make_window(big_store)
    before = dump(big_store)
    panel = shown(window)
    window.rebuild_projections()
    progress = panel.findChild(QProgressBar, "rebuildProgress")
    qtbot.waitUntil(lambda: progress.value() > 0, timeout=30000)  # it replays
    children = [w for w in active_workers() if isinstance(w, ChildWorker)]
    assert len(children) == 1
    pid = children[0].process_id
    assert pid > 0
    window.close()
    with pytest.raises(ProcessLookupError):  # ended and reaped: no orphan writes the store
        os.kill(pid, 0)
    assert dump(big_store) == before


def test_domain_code_raising_in_the_child_is_a_clear_message(
        make_window: Callable[..., Any], qtbot: Any, tmp_path: Path,
        message_boxes: MessageBoxes, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "faulty_domain.py").write_text(FAULTY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "faulty_domain", raising=False)
    import faulty_domain

    path = str(tmp_path / "faulty.sqlite3")
    spec = "faulty_domain:domain"
    with open_application(path, faulty_domain.domain, module=spec, create=True).app as app:
        app.dispatch_many([faulty_domain.Add(aggregate_id=f"c{n}", by=n) for n in range(10)])
    before = dump(path)
    window = make_window(path, domain=spec)
    monkeypatch.setenv("FAULTY_REPLAY", "1")  # the child's import raises on replay
    assert shown(window).rebuilds_in_child()
    status = rebuilt(qtbot, window)
    assert "Rebuild of totals failed: projection totals" in status
    assert "seven is not a total" in status and "Traceback" not in status
    title, text, details = message_boxes.shown[-1]
    assert title == "Rebuild failed" and "Nothing was written." in text
    assert "Traceback" not in text and "seven is not a total" in details
    assert dump(path) == before


def endless(store: Any) -> Callable[[], object]:
    from sqlalchemy import text

    def read() -> object:
        with store.reading() as conn:
            return conn.execute(text(ENDLESS)).scalar()
    return read


def test_a_cancelled_read_stops_its_statement(make_window: Callable[..., Any], qtbot: Any,
                                              bank_store: str) -> None:
    window = make_window(bank_store)
    store = window.session.app.store
    lane = window.lanes["storeChartLoader"]
    failed: list[str] = []
    ticket = lane.submit(endless(store), lambda _r: failed.append("done"),
                         lambda message, _d: failed.append(message))
    qtbot.wait(300)  # under way
    ticket.cancel()
    answers: list[int] = []
    lane.submit(store.head, answers.append, lambda message, _d: failed.append(message))
    qtbot.waitUntil(lambda: bool(answers), timeout=10000)  # the lane is free again
    assert answers == [store.head()] and failed == []  # the stopped read answers nobody


def test_closing_the_window_stops_a_long_read(make_window: Callable[..., Any], qtbot: Any,
                                             bank_store: str) -> None:
    window = make_window(bank_store)
    store = window.session.app.store
    outcome: list[object] = []
    window.lanes["storeChartLoader"].submit(endless(store), outcome.append,
                                            lambda message, _d: outcome.append(message))
    qtbot.wait(300)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 10  # the read alone runs for minutes
    assert outcome == []  # a stopped read answers nobody

