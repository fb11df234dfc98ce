"""Bad input never kills the app: foreign/corrupt/newer files, unknown event types,
exceptions in domain code, a broken --domain, and anything uncaught."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from incident_core import Application
from incident_core.examples.bank import domain as bank_domain
from tests.gui.conftest import COUNTER_DOMAIN, envelope


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()


def _newer_store(path: Path, bank_store: str) -> None:
    path.write_bytes(Path(bank_store).read_bytes())
    conn = sqlite3.connect(path)
    conn.execute("UPDATE incident_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("kind, expected", [
    ("text", "is not an Incident store"),
    ("sqlite", "not an Incident store"),
    ("corrupt", "cannot be read as a store"),
    ("newer", "newer than this Incident understands"),
])
def test_bad_files_are_refused_with_a_dialog_and_left_untouched(
        kind, expected, make_window, bank_store, message_boxes, tmp_path, qtbot):
    path = tmp_path / f"{kind}.sqlite3"
    if kind == "text":
        path.write_text("shopping list: eggs, milk\n")
    elif kind == "sqlite":
        _foreign_sqlite(path)
    elif kind == "corrupt":
        path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    else:
        _newer_store(path, bank_store)
    before = _digest(path)
    window = make_window(str(path))
    assert window.session is None
    assert len(message_boxes.shown) == 1
    title, text, _details = message_boxes.shown[0]
    assert str(path) in title and expected in text
    assert "Traceback" not in text
    assert _digest(path) == before
    assert not Path(f"{path}-wal").exists()
    # the window stays usable
    assert window.open_target(bank_store)
    qtbot.waitUntil(lambda: window.global_log_panel.model.event_at(0) is not None)


def test_dropping_a_foreign_file_keeps_the_open_store(make_window, bank_store, message_boxes,
                                                      tmp_path, qtbot):
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    window = make_window(bank_store)
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a store")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(foreign))])
    drop = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: not window.opening, timeout=10000)  # opens on a worker
    assert message_boxes.shown and "not an Incident store" in message_boxes.texts()[0]
    assert window.session is not None and window.session.target == bank_store


def test_unknown_event_types_are_shown_raw_with_a_badge(make_window, bank_store, qtbot):
    app = Application.open(bank_store, bank_domain)
    try:
        version = app.store.stream("acc-001").version + 1
        app.import_events([envelope("acc-001", version, "LegacyAudit",
                                    {"auditor": "mallory", "note": "from the old system"})])
    finally:
        app.close()
    window = make_window(bank_store)
    window.streams_panel.select_aggregate("acc-001")
    window.timeline_panel.select_version(version)
    row = version - 1
    timeline = window.timeline_panel.model
    assert timeline.index(row, 1).data() == "LegacyAudit (unknown)"
    assert "not part of the loaded domain" in timeline.index(row, 1).data(3)  # tooltip
    assert window.findChild(QLabel, "unknownTypeBadge").isVisible()
    tree = window.event_detail.json
    assert tree.item_for_path("data", "auditor").text(1) == "mallory"
    error = window.findChild(QLabel, "stateError")
    qtbot.waitUntil(error.isVisible)
    assert "LegacyAudit" in error.text() and "not known" in error.text()
    window.global_log_panel.jump_to_end()
    log = window.global_log_panel.model
    qtbot.waitUntil(lambda: log.event_at(log.rowCount() - 1) is not None)
    assert log.index(log.rowCount() - 1, 3).data() == "LegacyAudit (unknown)"


@pytest.fixture
def counter_domain(tmp_path, monkeypatch):
    folder = tmp_path / "user_code"
    folder.mkdir()
    (folder / "counter_domain.py").write_text(COUNTER_DOMAIN)
    monkeypatch.syspath_prepend(str(folder))
    yield "counter_domain:domain"
    sys.modules.pop("counter_domain", None)


def _counter_store(tmp_path, counter_domain) -> str:
    from incident_gui.session.store_session import load_domain

    target = str(tmp_path / "counter.sqlite3")
    domain = load_domain(counter_domain)
    app = Application.open(target, domain, create=True)
    try:
        app.dispatch_data("Increment", {"aggregate_id": "c-1", "by": 2})
        app.import_events([envelope("c-1", 2, "Incremented", {"by": 7},
                                    aggregate_type="Counter")])
    finally:
        app.close()
    return target


def test_user_domain_and_errors_inside_domain_code(make_window, tmp_path, counter_domain,
                                                   message_boxes, qtbot):
    target = _counter_store(tmp_path, counter_domain)
    window = make_window(target, domain=counter_domain)
    assert window.session.app.domain.name == "counter"
    window.streams_panel.select_aggregate("c-1")
    window.timeline_panel.select_version(1)
    qtbot.waitUntil(lambda: window.state_view.tree.topLevelItemCount() == 1)
    window.timeline_panel.select_version(2)  # applying it raises inside domain code
    error = window.findChild(QLabel, "stateError")
    qtbot.waitUntil(error.isVisible)
    assert "seven cannot be applied" in error.text()
    assert "ValueError" in error.toolTip() and "Traceback" in error.toolTip()

    head = window.session.app.store.head()
    panel = window.command_panel
    panel.select_command("Increment")
    panel.form.set_field_value("aggregate_id", "c-2")
    panel.form.set_field_value("by", 13)
    window.findChild(QPushButton, "dispatchButton").click()
    qtbot.waitUntil(lambda: bool(message_boxes.shown), timeout=5000)
    _title, text, details = message_boxes.shown[0]
    assert "thirteen is unlucky" in text and "Nothing was written" in text
    assert "RuntimeError" in details
    assert window.session.app.store.head() == head


def test_a_broken_domain_option_is_a_clear_dialog(make_window, bank_store, message_boxes):
    window = make_window(bank_store, domain="no_such_module_here:domain")
    assert window.session is None
    assert "cannot import domain module 'no_such_module_here'" in message_boxes.texts()[0]


def test_uncaught_exceptions_become_dialogs(qapp, message_boxes):
    from incident_gui.widgets.dialogs import install_excepthook

    previous = sys.excepthook
    install_excepthook()
    try:
        try:
            raise KeyError("boom")
        except KeyError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = previous
    _title, text, details = message_boxes.shown[0]
    assert "KeyError" in text and "boom" in details
