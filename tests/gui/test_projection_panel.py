"""The projection panel: lazy rows, lag, rebuild with progress, cancel and failure."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
)

from incident_core import Application, DomainCodeError, StoreError
from incident_core.examples.bank import DepositMoney, OpenAccount, bank_accounts
from incident_core.examples.bank import domain as bank_domain
from incident_core.progress import Progress
from incident_gui.tasks.workers import active_workers
from incident_gui.widgets import dialogs, projection_rebuild, projection_tab
from incident_gui.widgets.projection_panel import (
    PAGE_SIZE,
    ProjectionPanel,
    format_duration,
    progress_texts,
)
from incident_gui.widgets.projection_rows import RowsSnapshot

ACCOUNTS = 450


@pytest.fixture(autouse=True)
def workers_done(qtbot: Any) -> Iterator[None]:
    """Every worker delivers its ending signal (conftest then checks no QThread is left)."""
    yield
    qtbot.waitUntil(lambda: active_workers() == [], timeout=10000)


def seed(app: Application, deposits: int) -> None:
    app.dispatch_many([OpenAccount(aggregate_id=f"acc-{i:04d}") for i in range(ACCOUNTS)])
    for start in range(0, deposits, 2000):
        app.dispatch_many([DepositMoney(aggregate_id=f"acc-{i % ACCOUNTS:04d}", amount=1 + i % 7)
                           for i in range(start, min(start + 2000, deposits))])


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("projections") / "bank.sqlite3"
    with Application.open(str(path), bank_domain, create=True) as app:
        seed(app, 4000)
    return path


@pytest.fixture
def sqlite_bank(seeded_file: Path, tmp_path: Path, qtbot: Any) -> Iterator[Application]:
    path = tmp_path / "bank.sqlite3"
    shutil.copy(seeded_file, path)
    app = Application.open(str(path), bank_domain)
    try:
        yield app
    finally:  # a read started by the test's last refresh ends before the store closes
        qtbot.waitUntil(lambda: active_workers() == [], timeout=10000)
        app.close()


@pytest.fixture
def panel(qtbot: Any) -> ProjectionPanel:
    widget = ProjectionPanel()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    return widget


def child(widget: Any, kind: type, name: str) -> Any:
    found = widget.findChild(kind, name)
    assert found is not None, name
    return found


def wait_read(qtbot: Any, panel: ProjectionPanel) -> None:
    """Wait until the shown tab's rows were read (reads run off the UI thread)."""
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=5000)


def live_rows(app: Application) -> list[dict[str, Any]]:
    return app.store.projection_rows(bank_accounts.spec)


def tamper(app: Application) -> dict[str, Any]:
    """Make the stored projection disagree with the log (as a bug would), so that
    a rebuild visibly changes it."""
    row = dict(live_rows(app)[0], balance=-999)
    with app.store.transaction() as tx:
        tx.put_row(bank_accounts.spec, row)
    return row


def test_rows_load_lazily_a_page_at_a_time(panel: ProjectionPanel, qtbot: Any,
                                           sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    wait_read(qtbot, panel)
    tabs = child(panel, QTabWidget, "projectionTabs")
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["bank_accounts", "transfers"]
    view = child(panel, QTableView, "projection_bank_accounts")
    model = view.model()
    assert model.rowCount() == PAGE_SIZE and model.total == ACCOUNTS
    assert model.headerData(0, Qt.Orientation.Horizontal) == "aggregate_id"
    view.setFocus()
    counts = []
    for _ in range(4):  # each jump to the end fetches one more page
        qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: model.rowCount() > (counts or [PAGE_SIZE])[-1]
                        or model.rowCount() == ACCOUNTS, timeout=5000)
        counts.append(model.rowCount())
    assert counts[:3] == [2 * PAGE_SIZE, ACCOUNTS, ACCOUNTS]
    loaded = [model.row(i) for i in range(model.rowCount())]
    assert loaded == live_rows(sqlite_bank)
    assert not model.canFetchMore()
    info = child(panel, QLabel, "projectionInfo_bank_accounts").text()
    head = sqlite_bank.store.head()
    assert info == f"450 rows · checkpoint #{head:,} · head #{head:,} · up to date"


def test_refresh_keeps_loaded_rows_scroll_and_selection(
        panel: ProjectionPanel, qtbot: Any, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    wait_read(qtbot, panel)
    view = child(panel, QTableView, "projection_bank_accounts")
    model = view.model()
    model.fetchMore()
    view.selectRow(300)
    view.scrollTo(model.index(300, 0))
    scroll = view.verticalScrollBar().value()
    rows = model.rowCount()  # the view may have fetched one more page to show row 300
    assert scroll > 0 and rows > PAGE_SIZE
    sqlite_bank.dispatch(DepositMoney(aggregate_id="acc-0300", amount=1000))
    panel.refresh()
    assert model.rowCount() == rows and not model.canFetchMore()  # kept while reading
    wait_read(qtbot, panel)
    assert model.rowCount() == rows
    assert view.verticalScrollBar().value() == scroll
    [selected] = view.selectionModel().selectedRows()
    assert model.row(selected.row())["aggregate_id"] == "acc-0300"
    assert model.row(300)["balance"] == live_rows(sqlite_bank)[300]["balance"]


def test_the_info_label_shows_lag(panel: ProjectionPanel, qtbot: Any,
                                  sqlite_bank: Application) -> None:
    with sqlite_bank.store.transaction() as tx:
        tx.set_checkpoint("bank_accounts", sqlite_bank.store.head() - 25)
    panel.set_application(sqlite_bank)
    wait_read(qtbot, panel)
    assert child(panel, QLabel, "projectionInfo_bank_accounts").text().endswith(
        "25 events behind")


def test_other_tabs_load_when_shown(panel: ProjectionPanel, qtbot: Any,
                                    sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    wait_read(qtbot, panel)
    sqlite_bank.dispatch(OpenAccount(aggregate_id="zz-new"))
    panel.refresh()
    wait_read(qtbot, panel)
    panel.select_projection("transfers")
    assert panel.current_projection() == "transfers"
    wait_read(qtbot, panel)
    assert child(panel, QTableView, "projection_transfers").model().rowCount() == 0
    assert child(panel, QLabel, "projectionInfo_transfers").text().startswith("0 rows")
    panel.select_projection("bank_accounts")
    wait_read(qtbot, panel)
    assert child(panel, QTableView, "projection_bank_accounts").model().total == ACCOUNTS + 1


def test_rows_are_read_off_the_ui_thread(panel: ProjectionPanel, qtbot: Any,
                                         sqlite_bank: Application,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = sqlite_bank.store
    threads: list[bool] = []

    def recorded(real: Any) -> Any:
        def read(*args: Any, **kwargs: Any) -> Any:
            threads.append(threading.current_thread() is threading.main_thread())
            return real(*args, **kwargs)
        return read

    for method in ("projection_rows", "projection_row_count", "checkpoints", "head"):
        monkeypatch.setattr(store, method, recorded(getattr(store, method)))
    panel.set_application(sqlite_bank)
    view = child(panel, QTableView, "projection_bank_accounts")
    info = child(panel, QLabel, "projectionInfo_bank_accounts")
    assert view.model().rowCount() == 0 and info.text() == "Reading…"
    wait_read(qtbot, panel)
    assert view.model().rowCount() == PAGE_SIZE and info.text().startswith("450 rows")
    assert threads and not any(threads)


def gated_reads(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make the next read hold its answer until the returned event is set."""
    gate, real = threading.Event(), projection_tab.read_snapshot
    held: list[bool] = []

    def read(*args: Any, **kwargs: Any) -> RowsSnapshot:
        snapshot = real(*args, **kwargs)
        if not held:
            held.append(True)
            assert gate.wait(10)
        return snapshot

    monkeypatch.setattr(projection_tab, "read_snapshot", read)
    return gate


def test_a_read_overtaken_by_a_rebuild_is_never_shown(
        panel: ProjectionPanel, qtbot: Any, sqlite_bank: Application,
        monkeypatch: pytest.MonkeyPatch) -> None:
    expected = live_rows(sqlite_bank)
    tampered = tamper(sqlite_bank)
    gate = gated_reads(monkeypatch)
    panel.set_application(sqlite_bank)  # this read found the tampered rows, and waits
    model = child(panel, QTableView, "projection_bank_accounts").model()
    shown: list[dict[str, Any]] = []
    model.modelReset.connect(lambda: shown.append(model.row(0)))
    panel.rebuild_current()
    status = child(panel, QLabel, "rebuildStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Rebuilt"), timeout=20000)
    assert panel.is_loading() and shown == []
    gate.set()
    wait_read(qtbot, panel)
    assert shown == [expected[0]] and expected[0] != tampered
    assert [model.row(i) for i in range(model.rowCount())] == expected[:PAGE_SIZE]


def test_a_failed_read_says_why(panel: ProjectionPanel, qtbot: Any, sqlite_bank: Application,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_args: Any, **_kwargs: Any) -> RowsSnapshot:
        raise StoreError("database is locked")

    monkeypatch.setattr(projection_tab, "read_snapshot", failing)
    panel.set_application(sqlite_bank)
    wait_read(qtbot, panel)
    info = child(panel, QLabel, "projectionInfo_bank_accounts")
    assert info.text() == "Could not read bank_accounts: database is locked"
    assert "StoreError" in info.toolTip()
    monkeypatch.undo()
    panel.refresh()
    wait_read(qtbot, panel)
    assert info.text().startswith("450 rows") and info.toolTip() == ""


def test_late_text_and_a_rebuild_do_not_widen_the_panel(
        panel: ProjectionPanel, qtbot: Any, sqlite_bank: Application) -> None:
    """A wider panel would lay out and repaint the whole window (a long UI stall)."""
    panel.set_application(sqlite_bank)
    panel.resize(300, 500)
    wait_read(qtbot, panel)
    qtbot.wait(50)
    info = child(panel, QLabel, "projectionInfo_bank_accounts")
    assert info.text().endswith("up to date") and panel.width() == 300
    assert info.width() < info.fontMetrics().horizontalAdvance(info.text())  # wrapped
    panel.rebuild_current()
    assert child(panel, QProgressBar, "rebuildProgress").isVisible()
    qtbot.wait(50)
    assert panel.width() == 300
    qtbot.waitUntil(lambda: not panel.is_rebuilding(), timeout=20000)


def test_rebuild_with_progress_gives_the_live_rows(panel: ProjectionPanel, qtbot: Any,
                                                   sqlite_bank: Application) -> None:
    expected = live_rows(sqlite_bank)
    tamper(sqlite_bank)
    panel.set_application(sqlite_bank)
    progress = child(panel, QProgressBar, "rebuildProgress")
    seen: list[str] = []
    progress.valueChanged.connect(lambda _value: seen.append(progress.format()))
    button = child(panel, QPushButton, "rebuildButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert progress.isVisible() and not button.isEnabled()
    status = child(panel, QLabel, "rebuildStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Rebuilt"), timeout=20000)
    counted = [text for text in seen if " / " in text]
    assert counted and counted[0].startswith("Rebuilding bank_accounts: 0 / 4,450 events")
    assert live_rows(sqlite_bank) == expected
    wait_read(qtbot, panel)
    model = child(panel, QTableView, "projection_bank_accounts").model()
    assert model.row(0) == expected[0]  # the view reloaded the rebuilt rows
    assert not progress.isVisible() and button.isEnabled()
    assert f"{ACCOUNTS} rows" in status.text()


def test_ctrl_r_rebuilds(panel: ProjectionPanel, qtbot: Any,
                         sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.activateWindow()
    view = child(panel, QTableView, "projection_bank_accounts")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    status = child(panel, QLabel, "rebuildStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Rebuilt"), timeout=20000)


def test_a_host_window_action_on_ctrl_r_takes_precedence(qtbot: Any,
                                                         sqlite_bank: Application) -> None:
    """Two bindings of one key are ambiguous in Qt (neither fires): a panel inside a window
    that has its own Ctrl+R action leaves the key to that action."""
    window = QMainWindow()
    qtbot.addWidget(window)
    triggered: list[bool] = []
    action = QAction("Rebuild", window)
    action.setShortcut(QKeySequence("Ctrl+R"))
    action.triggered.connect(lambda: triggered.append(True))
    window.addAction(action)
    panel = ProjectionPanel()
    window.setCentralWidget(panel)
    panel.set_application(sqlite_bank)
    window.show()
    window.activateWindow()
    assert QTest.qWaitForWindowActive(window)
    view = child(panel, QTableView, "projection_bank_accounts")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert triggered == [True]
    assert not panel.is_rebuilding()


def test_cancel_mid_rebuild_keeps_the_previous_rows(panel: ProjectionPanel, qtbot: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real_rebuild = projection_rebuild.rebuild

    def unhurried_rebuild(app: Application, names: list[str]) -> Any:
        """The real rebuild, pausing between batches so a loaded machine cannot finish
        it before the cancel click lands."""
        operation = real_rebuild(app, names)
        try:
            while True:
                yield next(operation)
                time.sleep(0.02)
        except StopIteration as stop:
            return stop.value
        finally:
            operation.close()

    monkeypatch.setattr(projection_rebuild, "rebuild", unhurried_rebuild)
    app = Application.open("memory:", bank_domain, create=True)
    seed(app, 30_000)
    tampered = tamper(app)
    before_rows, before_checkpoint = live_rows(app), app.store.checkpoints()
    panel.set_application(app)
    wait_read(qtbot, panel)
    progress = child(panel, QProgressBar, "rebuildProgress")
    cancel = child(panel, QPushButton, "cancelRebuildButton")
    clicked: list[int] = []

    def cancel_on_first_progress(value: int) -> None:
        if not clicked and " / " in progress.format():
            clicked.append(value)
            qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)

    progress.valueChanged.connect(cancel_on_first_progress)
    panel.rebuild_current()
    status = child(panel, QLabel, "rebuildStatus")
    qtbot.waitUntil(lambda: not panel.is_rebuilding(), timeout=20000)
    assert clicked
    assert "cancelled; the previous rows are kept" in status.text()
    assert live_rows(app) == before_rows and app.store.checkpoints() == before_checkpoint
    assert live_rows(app)[0] == tampered
    model = child(panel, QTableView, "projection_bank_accounts").model()
    assert model.row(0) == tampered
    assert child(panel, QPushButton, "rebuildButton").isEnabled()


def failing_rebuild(error: Exception) -> Any:
    def operation(app: Application, names: list[str]) -> Generator[Progress, None, None]:
        yield Progress(0, 10, "replaying events")
        raise error
    return operation


def test_a_failed_rebuild_reports_and_keeps_the_rows(
        panel: ProjectionPanel, qtbot: Any, sqlite_bank: Application,
        monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda *args, **kwargs: shown.append(args[2]))
    monkeypatch.setattr(projection_rebuild, "rebuild",
                        failing_rebuild(StoreError("database is locked")))
    before = live_rows(sqlite_bank)
    panel.set_application(sqlite_bank)
    panel.rebuild_current()
    status = child(panel, QLabel, "rebuildStatus")
    qtbot.waitUntil(lambda: "failed" in status.text(), timeout=5000)
    assert "database is locked" in status.text() and "previous rows are kept" in status.text()
    assert shown == []  # an expected error: one line, no dialog
    assert live_rows(sqlite_bank) == before

    monkeypatch.setattr(projection_rebuild, "rebuild", failing_rebuild(
        DomainCodeError("projection bank_accounts on MoneyDeposited", KeyError("x"))))
    panel.rebuild_current()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "projection bank_accounts" in shown[0]


def test_read_only_cannot_rebuild(panel: ProjectionPanel, sqlite_bank: Application) -> None:
    panel.set_application(sqlite_bank)
    panel.set_read_only(True)
    button = child(panel, QPushButton, "rebuildButton")
    assert not button.isEnabled() and "read-only" in button.toolTip()
    panel.rebuild_current()
    assert not panel.is_rebuilding()
    panel.set_application(None)
    assert not button.isEnabled()


def test_progress_text_fits_a_narrow_bar(panel: ProjectionPanel, qtbot: Any,
                                         sqlite_bank: Application) -> None:
    panel.resize(380, 500)
    panel.set_application(sqlite_bank)
    progress = child(panel, QProgressBar, "rebuildProgress")
    seen: list[tuple[str, int]] = []
    progress.valueChanged.connect(lambda _v: seen.append((progress.format(),
                                                          progress.contentsRect().width())))
    panel.rebuild_current()
    qtbot.waitUntil(lambda: not panel.is_rebuilding(), timeout=20000)
    shown = [(text, width) for text, width in seen if " / " in text or "%" in text]
    assert shown
    for text, width in shown:
        assert progress.fontMetrics().horizontalAdvance(text) < width, text
    assert progress.toolTip().startswith("Rebuilding bank_accounts: ")


def test_progress_texts_get_shorter() -> None:
    texts = progress_texts("bank_accounts", Progress(500, 2000), 250.0)
    assert texts == [
        "Rebuilding bank_accounts: 500 / 2,000 events · 250 events/s · ETA 6 s",
        "bank_accounts: 500 / 2,000 · 250/s · ETA 6 s",
        "500 / 2,000 · ETA 6 s", "25% · ETA 6 s", "25%"]
    assert progress_texts("p", Progress(0, 10), None)[0] == "Rebuilding p: 0 / 10 events"


def test_format_duration() -> None:
    assert [format_duration(s) for s in (4.4, 65, 3 * 3600 + 7 * 60)] == [
        "4 s", "1 min 05 s", "3 h 07 min"]
