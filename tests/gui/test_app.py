"""The entry point: --version, --smoke (with and without a store), and window chrome:
recent stores, persisted layout, new / close, about, rebuild shortcut."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QSplitter

from incident_gui import __version__
from incident_gui.session.settings import Settings
from incident_gui.window.main_window import MainWindow

REPO = Path(__file__).resolve().parents[2]


def run_inspector(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    return subprocess.run([sys.executable, "-m", "incident_gui.launch", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def test_version(tmp_path):
    result = run_inspector("--version", home=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"incident-inspector {__version__}"


def test_smoke_opens_a_store(bank_store, tmp_path):
    result = run_inspector(bank_store, "--smoke", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "smoke ok" in result.stdout and "139 events" in result.stdout
    assert result.stderr == ""  # not even a Qt warning


def test_smoke_refuses_a_foreign_file(tmp_path):
    foreign = tmp_path / "report.sqlite3"
    foreign.write_text("quarterly numbers\n")
    before = hashlib.sha256(foreign.read_bytes()).hexdigest()
    result = run_inspector(str(foreign), "--smoke", home=tmp_path)
    assert result.returncode == 1
    assert "is not an Incident store" in result.stderr
    assert "Traceback" not in result.stderr
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == before


def test_smoke_creates_the_demo_store_on_first_run(tmp_path):
    result = run_inspector("--smoke", home=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    demo = tmp_path / "data" / "incident" / "demo-bank.sqlite3"
    assert demo.exists()
    assert not Path(f"{demo}.partial").exists()
    again = run_inspector("--smoke", home=tmp_path)  # second run: opened, not re-seeded
    assert again.returncode == 0 and again.stdout == result.stdout


def test_recent_stores_and_layout_persist(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    window.resize(780, 600)  # within the screen, above the panels' minimum (below it they scroll)
    splitter = window.findChild(QSplitter, "mainSplitter")
    splitter.setSizes([440, splitter.width() - 440 - splitter.handleWidth()])
    size, sizes = window.size(), splitter.sizes()
    window.close()
    assert Settings().recent()[0] == str(Path(bank_store).resolve())
    again = MainWindow()
    qtbot.addWidget(again)
    again.fill_recent_menu()
    entries = again.actions_.recent_menu.actions()
    assert entries[0].text() == str(Path(bank_store).resolve())
    entries[0].trigger()
    qtbot.waitUntil(lambda: not again.opening, timeout=10000)  # the store opens on a worker
    assert again.session is not None
    assert again.session.target == str(Path(bank_store).resolve())
    again.show()
    assert again.size() == size
    assert again.findChild(QSplitter, "mainSplitter").sizes() == sizes


def test_new_and_close_store(tmp_path, qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    target = str(tmp_path / "fresh.sqlite3")
    assert window.open_target(target, create=True)
    assert window.session.app.store.head() == 0
    assert window.global_log_panel.model.rowCount() == 0
    assert window.status.head_label.text() == "head #0"
    window.actions_.close_store.trigger()
    assert window.session is None
    assert window.status.store_label.text() == "No store open"


def test_about_shows_the_version(make_window, bank_store, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, title, text: shown.append(text))
    window = make_window(bank_store)
    window.actions_.about.trigger()
    assert __version__ in shown[0]


def test_ctrl_r_rebuilds_all_projections_with_one_progress(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    assert window.actions_.rebuild.shortcut().toString() == "Ctrl+R"
    window.actions_.rebuild.trigger()
    assert window.side_tabs.currentWidget() is window.projection_panel
    assert window.projection_panel.is_rebuilding()
    progress = window.projection_panel.findChild(QProgressBar, "rebuildProgress")
    assert "all projections" in progress.format()
    qtbot.waitUntil(lambda: not window.projection_panel.is_rebuilding(), timeout=10000)
    status = window.projection_panel.findChild(QLabel, "rebuildStatus").text()
    assert status.startswith("Rebuilt all projections: ")


def test_shortcuts(make_window, bank_store):
    window = make_window(bank_store)
    actions = window.actions_
    assert actions.open.shortcut().toString() == "Ctrl+O"
    assert actions.filter.shortcut().toString() == "Ctrl+F"
    assert actions.refresh.shortcut().toString() == "F5"


def test_recent_entries_never_keep_passwords():
    from incident_gui.session.store_session import recent_entry

    assert recent_entry("memory:") is None
    assert recent_entry("postgresql+psycopg://ann:s3cret@db.example/bank") == \
        "postgresql+psycopg://ann@db.example/bank"
    assert recent_entry("relative.sqlite3") == str(Path("relative.sqlite3").resolve())


def test_smoke_with_a_users_domain_from_a_folder(tmp_path):
    from incident_core import Application
    from tests.gui.conftest import COUNTER_DOMAIN

    folder = tmp_path / "user_code"
    folder.mkdir()
    (folder / "smoke_counter.py").write_text(COUNTER_DOMAIN)
    sys.path.insert(0, str(folder))
    try:
        from incident_gui.session.store_session import load_domain

        domain = load_domain("smoke_counter:domain")
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("smoke_counter", None)
    target = str(tmp_path / "counter.sqlite3")
    with Application.open(target, domain, create=True) as app:
        app.dispatch_data("Increment", {"aggregate_id": "c-1", "by": 2})
    result = run_inspector(target, "--domain", "smoke_counter:domain",
                           "--domain-path", str(folder), "--smoke", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 event in" in result.stdout
    missing = run_inspector(target, "--domain", "smoke_counter:domain", "--smoke",
                            home=tmp_path)
    assert missing.returncode == 1
    assert "cannot import domain module 'smoke_counter'" in missing.stderr
