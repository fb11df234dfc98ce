"""Live updates: events recorded by another process show up without user action."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QToolButton

from tests.gui.conftest import timeline_read

REPO = Path(__file__).resolve().parents[2]


def dispatch_elsewhere(target: str, command: str, data: dict[str, object]) -> None:
    """Run `incident dispatch` in a separate process (as a user at a terminal would)."""
    subprocess.run(
        [sys.executable, "-m", "incident_core.cli", "dispatch", command,
         "--data", json.dumps(data), "--db", target],
        check=True, capture_output=True, timeout=60, cwd=REPO)


def test_events_from_another_process_appear_everywhere(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    window.streams_panel.select_aggregate("acc-002")
    timeline_read(qtbot, window)
    head = window.session.app.store.head()
    log = window.global_log_panel.model
    timeline = window.timeline_panel.model
    versions = timeline.rowCount()

    dispatch_elsewhere(bank_store, "DepositMoney", {"aggregate_id": "acc-002", "amount": 7})
    done = time.monotonic()
    qtbot.waitUntil(lambda: log.rowCount() == head + 1, timeout=2000)
    qtbot.waitUntil(lambda: timeline.rowCount() == versions + 1, timeout=2000)
    assert time.monotonic() - done < 2.0
    assert timeline.event_at(versions).data == {"amount": 7}
    qtbot.waitUntil(lambda: log.event_at(head) is not None, timeout=2000)
    assert log.event_at(head).event_type == "MoneyDeposited"
    streams = window.streams_panel.model
    assert streams.info_at(streams.row_of("acc-002")).version == versions + 1
    assert streams.row_of("acc-002") == 0  # last activity first: it moved to the top
    assert window.streams_panel.selected_aggregate() == "acc-002"  # still selected
    assert window.status.head_label.text() == f"head #{head + 1:,}"

    dispatch_elsewhere(bank_store, "OpenAccount", {"aggregate_id": "acc-0025"})
    qtbot.waitUntil(lambda: streams.row_of("acc-0025") is not None, timeout=2000)
    assert streams.row_of("acc-0025") == 0  # the newest activity is on top
    assert streams.row_of("acc-002") == 1
    assert window.streams_panel.selected_aggregate() == "acc-002"


def test_live_toggle_pauses_and_resumes(make_window, bank_store, qtbot):
    window = make_window(bank_store)
    log = window.global_log_panel.model
    head = log.rowCount()
    toggle = window.findChild(QToolButton, "liveToggle")
    assert toggle.isChecked()
    toggle.click()
    assert not window.live
    assert "paused" in window.status.live_label.text()

    dispatch_elsewhere(bank_store, "DepositMoney", {"aggregate_id": "acc-001", "amount": 1})
    qtbot.wait(1500)
    assert log.rowCount() == head  # paused: nothing moved

    toggle.click()
    qtbot.waitUntil(lambda: log.rowCount() == head + 1, timeout=2000)


@pytest.mark.postgres
def test_postgresql_store_live_updates(make_window, pg_url, qtbot):
    from incident_core import Application
    from incident_core.examples.bank import DepositMoney
    from incident_core.examples.bank import domain as bank_domain
    from incident_core.store.open import describe_target
    from tests.gui.conftest import seed_bank

    seed_bank(pg_url)
    window = make_window(pg_url)
    log = window.global_log_panel.model
    head = log.rowCount()
    assert head == 139
    assert window.status.store_label.text() == describe_target(pg_url)
    writer = Application.open(pg_url, bank_domain)  # another connection, as another process
    try:
        writer.dispatch(DepositMoney(aggregate_id="acc-003", amount=3))
    finally:
        writer.close()
    qtbot.waitUntil(lambda: log.rowCount() == head + 1, timeout=2000)


def test_projections_follow_live_changes_while_shown(make_window, bank_store, qtbot):
    from PySide6.QtWidgets import QTableView

    window = make_window(bank_store)
    window.side_tabs.setCurrentWidget(window.projection_panel)
    window.projection_panel.select_projection("bank_accounts")
    view = window.findChild(QTableView, "projection_bank_accounts")
    qtbot.waitUntil(lambda: view.model() is not None and view.model().rowCount() > 0)

    def balance(account: str) -> int | None:
        model = view.model()
        rows = [model.row(n) for n in range(model.rowCount())]
        return next((r["balance"] for r in rows if r["aggregate_id"] == account), None)

    before = balance("acc-005")
    dispatch_elsewhere(bank_store, "DepositMoney", {"aggregate_id": "acc-005", "amount": 11})
    qtbot.waitUntil(lambda: balance("acc-005") == before + 11, timeout=2000)
