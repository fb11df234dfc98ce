"""One GUI threading policy, through the real window and real stores: opening runs on a
worker while the UI keeps running, a read's answer reaches only its requester, a cancelled
operation stops and writes nothing more, and our own commits reach the views once,
without being read back."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressBar

from incident_core import Application, RecordedEvent
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank_domain
from incident_core.progress import Progress
from incident_gui.tasks.demo_seeder import DemoSeeder
from incident_gui.tasks.query_lane import QueryLane, Requests
from incident_gui.tasks.workers import active_workers, run_operation
from incident_gui.window.main_window import MainWindow
from tests.gui.conftest import seed_bank

SLOW_DOMAIN = textwrap.dedent('''
    import threading, time
    LOADED_ON = threading.current_thread().name
    time.sleep({seconds})  # a user's domain that takes its time to import
    from incident_core.examples.bank import domain
''')


@pytest.fixture
def slow_domain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`module:attr` of a bank domain whose module takes 1.5 s to import."""
    name = f"slow_bank_{tmp_path.name}".replace("-", "_")
    (tmp_path / f"{name}.py").write_text(SLOW_DOMAIN.format(seconds=1.5))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield f"{name}:domain"
    sys.modules.pop(name, None)


def test_opening_a_store_runs_on_a_worker_while_the_ui_keeps_running(
        qtbot: Any, tmp_path: Path, slow_domain: str) -> None:
    window = MainWindow(domain=slow_domain)
    qtbot.addWidget(window)
    window.show()
    ticks: list[float] = []
    timer = QTimer(window, interval=50)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    assert window.begin_open(str(tmp_path / "new.sqlite3"), create=True)
    busy = window.status.findChild(QProgressBar, "openProgress")
    assert window.opening and busy.isVisible()
    assert "Opening" in window.status.currentMessage()
    qtbot.waitUntil(lambda: not window.opening, timeout=15_000)
    timer.stop()
    assert window.session is not None and window.session.app.store.head() == 0
    assert not busy.isVisible()
    module = sys.modules[slow_domain.partition(":")[0]]
    assert threading.main_thread().name != module.LOADED_ON  # imported by the worker
    assert len(ticks) >= 10  # the UI thread ran its timer all through the 1.5 s import


def test_a_failed_open_is_reported_and_keeps_the_current_store(
        qtbot: Any, bank_store: str, tmp_path: Path, message_boxes: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.open_target(bank_store)
    assert not window.open_target(str(tmp_path / "nowhere.sqlite3"))
    [text] = message_boxes.texts()
    assert "no store at" in text and "Traceback" not in text
    assert window.session is not None and window.session.target == bank_store


def test_a_reads_answer_reaches_only_its_requester(qtbot: Any, bank_store: str) -> None:
    lane = QueryLane("testLane")
    app = Application.open(bank_store, bank_domain, read_only=True)
    try:
        first, second, dropped = Requests(lane), Requests(lane), Requests(lane)
        got: dict[str, list[object]] = {"first": [], "second": [], "dropped": [],
                                        "failed": []}
        first.submit(app.store.head, got["first"].append, lambda m, d: got["failed"].append(m))
        second.submit(lambda: app.store.stream("acc-001"), got["second"].append,
                      lambda m, d: got["failed"].append(m))
        dropped.submit(app.store.event_types, got["dropped"].append,
                       lambda m, d: got["failed"].append(m))
        dropped.reset()  # its view moved on: the answer is stale
        second.submit(lambda: app.store.stream("no-such"), got["second"].append,
                      lambda m, d: got["failed"].append(m))
        qtbot.waitUntil(lambda: not first.busy() and not second.busy(), timeout=5000)
        qtbot.wait(100)
        assert got["first"] == [app.store.head()]
        # the newest request runs first (what the user looks at now)
        assert [getattr(info, "aggregate_id", info) for info in got["second"]] == [
            None, "acc-001"]
        assert got["dropped"] == [] and got["failed"] == []
    finally:
        lane.stop()
        app.close()


def test_a_failing_read_reaches_its_requester_as_a_message(qtbot: Any) -> None:
    lane = QueryLane("testLane")
    try:
        failures: list[tuple[str, str]] = []
        Requests(lane).submit(lambda: {}["missing"], lambda _r: None,
                              lambda m, d: failures.append((m, d)))
        qtbot.waitUntil(lambda: bool(failures), timeout=5000)
        [(message, details)] = failures
        assert message == "Unexpected error: KeyError: 'missing'"
        assert "Traceback" in details and "Traceback" not in message
    finally:
        lane.stop()


def _deposits(app: Application, count: int, closed: list[bool]
              ) -> Generator[Progress, None, int]:
    """An operation: one real command per step."""
    try:
        for done in range(1, count + 1):
            app.dispatch(DepositMoney(aggregate_id="acc-001", amount=1))
            yield Progress(done, count)
    finally:
        closed.append(True)
    return count


def test_a_cancelled_operation_stops_and_writes_nothing_more(qtbot: Any, bank_store: str
                                                             ) -> None:
    app = Application.open(bank_store, bank_domain)
    try:
        start, closed, ended = app.store.head(), [], []
        worker = run_operation(lambda: _deposits(app, 500, closed), done=ended.append,
                               failed=lambda m, d: ended.append(m),
                               progress=lambda p: worker.cancel(),
                               cancelled=lambda: ended.append("cancelled"))
        qtbot.waitUntil(lambda: ended == ["cancelled"], timeout=10_000)
        stopped_at = app.store.head()
        qtbot.wait(300)
        assert closed == [True]  # the generator was closed at its next yield
        assert app.store.head() == stopped_at < start + 500
        assert active_workers() == []
    finally:
        app.close()


def test_a_cancelled_demo_leaves_no_store_behind(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite3"
    seeder = DemoSeeder(path, accounts=20, transfers=200, show_progress=False)
    failed: list[str] = []
    seeder.sig_failed.connect(lambda message, _details: failed.append(message))
    seeder.start()
    seeder.cancel()
    qtbot.waitUntil(lambda: bool(failed), timeout=20_000)
    assert failed == ["Creating the demo store was cancelled."]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


class _ReadCounter:
    """Counts which positions the store hands out (wrapping the real methods)."""

    def __init__(self, store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.positions: list[int] = []
        self._lock = threading.Lock()
        for name in ("read_events", "read_stream", "get_event", "events_with_metadata"):
            monkeypatch.setattr(store, name, self._counting(getattr(store, name)))

    def _counting(self, real: Any) -> Any:
        def read(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            events = result if isinstance(result, list) else [result]
            with self._lock:
                self.positions += [e.position for e in events if isinstance(e, RecordedEvent)]
            return result
        return read

    def after(self, head: int) -> list[int]:
        with self._lock:
            return sorted(p for p in self.positions if p > head)


def test_own_commits_reach_the_views_once_without_being_read_back(
        make_window: Any, bank_store: str, qtbot: Any, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    _own_and_other_commits(make_window(bank_store), bank_store, qtbot, monkeypatch)


@pytest.mark.postgres
def test_own_commits_are_not_read_back_on_postgresql(
        make_window: Any, pg_url: str, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_bank(pg_url)
    _own_and_other_commits(make_window(pg_url), pg_url, qtbot, monkeypatch)


def _own_and_other_commits(window: Any, target: str, qtbot: Any,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    app = window.session.app
    reads = _ReadCounter(app.store, monkeypatch)
    head = app.store.head()
    changes: list[Any] = []
    window.sig_store_changed.connect(changes.append)
    log, streams = window.global_log_panel.model, window.streams_panel.model
    app.dispatch(DepositMoney(aggregate_id="acc-001", amount=5))
    app.dispatch(OpenAccount(aggregate_id="acc-own"))
    qtbot.waitUntil(lambda: log.rowCount() == head + 2, timeout=5000)
    qtbot.waitUntil(lambda: streams.row_of("acc-own") is not None, timeout=5000)
    qtbot.wait(600)  # the live watcher had time to look (and must not have read them)
    assert [[e.position for e in c.events] for c in changes] == [[head + 1], [head + 2]]
    assert window.status.head_label.text() == f"head #{head + 2:,}"
    assert reads.after(head) == []  # nothing read back: the views took the commits as given
    # another writer's commit is read once, by the live watcher
    other = Application.open(target, bank_domain)
    try:
        other.dispatch(DepositMoney(aggregate_id="acc-002", amount=7))
    finally:
        other.close()
    qtbot.waitUntil(lambda: log.rowCount() == head + 3, timeout=5000)
    qtbot.wait(300)
    assert reads.after(head) == [head + 3]
    assert [e.position for e in changes[-1].events] == [head + 3]
