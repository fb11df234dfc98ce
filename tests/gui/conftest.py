"""GUI test fixtures: bank stores, the real window, isolated settings, no leaked threads."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QThread, QThreadPool
from PySide6.QtWidgets import QMessageBox

from incident_core import Application
from incident_core.engine.binding import open_application
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
)
from incident_core.examples.bank import domain as bank_domain
from incident_gui.widgets.streams_panel import StreamsPanel

# A user's domain whose code raises on purpose (13 when deciding, 7 when applying).
COUNTER_DOMAIN = textwrap.dedent('''
    from incident_core import Aggregate, Command, Domain, Event, State

    class Increment(Command):
        by: int = 1

    class Incremented(Event):
        by: int

    class CounterState(State):
        value: int = 0

    counter = Aggregate("Counter", CounterState())

    @counter.executes(Increment)
    def increment(state, cmd):
        if cmd.by == 13:
            raise RuntimeError("thirteen is unlucky")
        return Incremented(by=cmd.by)

    @counter.applies(Incremented)
    def incremented(state, event):
        if event.by == 7:
            raise ValueError("seven cannot be applied")
        return CounterState(value=state.value + event.by)

    domain = Domain("counter", aggregates=[counter])
''')

ACCOUNTS = [f"acc-{n:03d}" for n in range(1, 13)]
GROUP_ACCOUNTS = [f"savings-{n}" for n in range(1, 4)]


def seed_bank(target: str) -> None:
    """A small, deterministic bank: accounts, deposits, withdrawals, and transfers that
    complete, get cancelled (overdrawn) and get reverted (missing destination)."""
    # Opened as the CLI and the inspector open a store, so it records its domain now: a
    # test's first window on it then writes nothing (byte-identity checks hold).
    app = open_application(target, bank_domain, module="incident_core.examples.bank:domain",
                           create=True).app
    try:
        commands: list[Any] = []
        for number, account in enumerate(ACCOUNTS + GROUP_ACCOUNTS, start=1):
            commands.append(OpenAccount(aggregate_id=account))
            commands.append(DepositMoney(aggregate_id=account, amount=100 * number))
        commands.append(WithdrawMoney(aggregate_id="acc-001", amount=30))
        app.dispatch_many(commands)
        transfers = [
            RequestTransfer(aggregate_id=f"t-{n:03d}", source_account_number=ACCOUNTS[n % 12],
                            destination_account_number=ACCOUNTS[(n + 1) % 12], amount=10 + n)
            for n in range(1, 21)]
        transfers.append(RequestTransfer(aggregate_id="t-overdrawn",
                                         source_account_number="acc-002",
                                         destination_account_number="acc-003",
                                         amount=1_000_000))
        transfers.append(RequestTransfer(aggregate_id="t-missing",
                                         source_account_number="acc-004",
                                         destination_account_number="acc-nobody", amount=5))
        app.dispatch_many(transfers)
    finally:
        app.close()


@pytest.fixture(scope="session")
def bank_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "bank.sqlite3"
    seed_bank(str(path))
    return path


@pytest.fixture
def bank_store(bank_template: Path, tmp_path: Path) -> str:
    """A fresh copy of the seeded bank store for one test."""
    path = tmp_path / "bank.sqlite3"
    shutil.copyfile(bank_template, path)
    return str(path)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep QSettings and the demo store's data folder out of the user's home."""
    config = tmp_path / "config"
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(config))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(autouse=True)
def no_thread_left_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QThread (or a pooled QRunnable) running."""
    started: list[QThread] = []
    original = QThread.start

    def start(self: QThread, *args: Any) -> None:
        started.append(self)
        original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    running = []
    for thread in started:
        try:
            if thread.isRunning():
                running.append(thread.objectName() or type(thread).__name__)
        except RuntimeError:  # the C++ object is gone: it is not running
            continue
    pool_idle = QThreadPool.globalInstance().waitForDone(2000)
    assert not running, f"threads left running: {running}"
    assert pool_idle, "QThreadPool tasks left running"


class MessageBoxes:
    """Records message boxes instead of blocking on them."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []

    def texts(self) -> list[str]:
        return [text for _title, text, _details in self.shown]


@pytest.fixture
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> MessageBoxes:
    boxes = MessageBoxes()

    def record(box: QMessageBox) -> int:
        boxes.shown.append((box.windowTitle(), box.text(), box.detailedText()))
        return int(QMessageBox.StandardButton.Ok)

    monkeypatch.setattr(QMessageBox, "exec", record)
    return boxes


@pytest.fixture
def make_window(qtbot: Any) -> Callable[..., Any]:
    """Build the real main window with `create_window`, wait for the store to open (on a
    worker), for the global log and for the streams list's first page (it reads it on its
    lane as the store opens)."""
    from incident_gui.main import create_window

    def make(target: str | None, *, wait: bool = True, **kwargs: Any) -> Any:
        window = create_window(target, **kwargs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: not window.opening, timeout=10000)  # opens on a worker
        if wait and window.session is not None:
            log = window.global_log_panel.model
            qtbot.waitUntil(lambda: log.rowCount() == 0 or log.event_at(0) is not None,
                            timeout=5000)
            streams = window.streams_panel.model
            qtbot.waitUntil(lambda: not streams.is_loading(), timeout=5000)
            timeline_read(qtbot, window)
        return window

    return make


def timeline_read(qtbot: Any, window: Any) -> None:
    """Wait until the timeline has read what it shows (it reads on a lane): its rows, the
    selected event and the pages painting asked for."""
    panel = window.timeline_panel
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=5000)
    qtbot.wait(20)  # let the view paint: it asks for the pages it shows
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=5000)


def show_event_id(qtbot: Any, window: Any, event_id: str) -> None:
    """Jump to an event as a link does, and wait until it is shown (it is read on a lane)."""
    window.show_event_id(event_id)
    detail = window.event_detail
    qtbot.waitUntil(lambda: detail.shown_event is not None
                    and detail.shown_event.event_id == event_id, timeout=5000)


def envelope(aggregate_id: str, version: int, event_type: str, data: dict[str, Any], *,
             aggregate_type: str = "Account", when: str = "2026-01-02T03:04:05.000000+00:00",
             metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A recorded-event envelope as `Application.import_events` takes it."""
    import uuid

    return {"event_id": str(uuid.uuid4()), "aggregate_id": aggregate_id,
            "aggregate_type": aggregate_type, "event_type": event_type, "version": version,
            "recorded_at": when, "data": data, "metadata": metadata or {},
            "schema_version": 1}


def seed_many_accounts(target: str, count: int) -> None:
    """`count` accounts (opened and funded), imported in bulk: 2 x count events."""
    app = Application.open(target, bank_domain, create=True)
    try:
        envelopes = []
        for n in range(count):
            account = f"bulk-{n:05d}"
            envelopes.append(envelope(account, 1, "AccountOpened", {"account_number": account}))
            envelopes.append(envelope(account, 2, "MoneyDeposited", {"amount": n + 1}))
        app.import_events(envelopes)
    finally:
        app.close()


@pytest.fixture(scope="session")
def many_accounts_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("many") / "many.sqlite3"
    seed_many_accounts(str(path), 1_200)
    return path


@pytest.fixture
def many_accounts_store(many_accounts_template: Path, tmp_path: Path) -> str:
    """1,200 account streams and 2,400 events (more than a page of everything)."""
    path = tmp_path / "many.sqlite3"
    shutil.copyfile(many_accounts_template, path)
    return str(path)


@pytest.fixture
def streams_panel(qtbot: Any) -> Iterator[StreamsPanel]:
    """A streams panel alone (stopped afterwards: its lanes end with the test)."""
    panel = StreamsPanel()
    qtbot.addWidget(panel)
    yield panel
    panel.stop()
