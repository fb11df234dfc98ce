"""Read-only mode: opened read-only at the database level, writes disabled, file untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QTableView


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_read_only_leaves_the_file_byte_identical(make_window, bank_store, qtbot):
    before = _digest(bank_store)
    window = make_window(bank_store, read_only=True)
    assert window.session.read_only and window.session.app.store.read_only
    assert window.findChild(QLabel, "readOnlyBadge").isVisible()
    assert "read-only" in window.windowTitle()
    assert not window.actions_.rebuild.isEnabled()
    assert not window.findChild(QPushButton, "dispatchButton").isEnabled()
    assert not window.findChild(QPushButton, "rebuildButton").isEnabled()

    # browse everything
    window.streams_panel.select_aggregate("t-001")
    window.timeline_panel.select_version(2)
    qtbot.waitUntil(lambda: window.state_view.tree.topLevelItemCount() > 0)
    log = window.findChild(QTableView, "globalLogView")
    log.setFocus()
    log.setCurrentIndex(log.model().index(0, 0))
    qtbot.keyClick(log, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: window.event_detail.shown_event is not None
                    and window.event_detail.shown_event.position == log.model().rowCount())
    window.rebuild_projections()  # refused quietly: nothing runs
    assert not window.projection_panel.is_rebuilding()
    window.close()
    assert _digest(bank_store) == before
    assert not Path(bank_store + "-wal").exists()
    assert not Path(bank_store + "-shm").exists()


def test_writable_store_enables_actions(make_window, bank_store):
    window = make_window(bank_store)
    assert not window.findChild(QLabel, "readOnlyBadge").isVisible()
    assert window.actions_.rebuild.isEnabled()
