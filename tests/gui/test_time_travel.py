"""Time travel through the real window: the position/time control with its banner and the
system as of then, a diff between two positions, a shadow rebuild of changed projection
code (diff, discard, swap, with events arriving meanwhile) and the event catalogue."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from incident_core import Application
from incident_core.engine.projector import ProjectionFold
from incident_core.examples.bank import DepositMoney
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.rowdiff import keyed_rows
from incident_gui.tasks.workers import active_workers
from tests.timetravel_domains import changed_bank

SHOTS = os.environ.get("INCIDENT_SHOTS")  # a folder: save screenshots there (not committed)


@pytest.fixture(autouse=True)
def workers_done(qtbot: Any) -> Iterator[None]:
    yield
    qtbot.waitUntil(lambda: active_workers() == [], timeout=10000)


def replay(target: str, name: str, position: int, domain: Any = bank_domain) -> dict[str, Any]:
    with Application.open(target, domain, read_only=True) as app:
        projection = app.projection(name)
        fold = ProjectionFold(app.domain, [projection], until={name: position})
        for batch in app.store.iter_events(up_to=position):
            for recorded in batch:
                fold.feed(recorded)
        return keyed_rows(projection.spec, fold.rows(name))


def table_rows(table: Any) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def shot(window: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(SHOTS) / f"{name}.png"))


def test_as_of_control_banner_and_back_to_now(make_window: Any, qtbot: Any,
                                              bank_store: str) -> None:
    window = make_window(bank_store)
    travel = window.time_travel
    head = window.session.app.store.head()
    middle = head // 2
    assert not travel.banner.isVisible() and travel.control.spin.maximum() == head
    travel.control.spin.setValue(middle)
    qtbot.mouseClick(travel.control.go, Qt.MouseButton.LeftButton)
    assert travel.past.data is None  # the As of tab reads only when it is on screen
    travel.show_tab()
    qtbot.waitUntil(lambda: travel.past.data is not None, timeout=10000)
    assert travel.banner.isVisible() and f"position {middle} of {head}" in travel.banner.text()
    expected = replay(bank_store, "bank_accounts", middle)
    table = travel.past.tables["bank_accounts"]
    assert sorted(r[0] for r in table_rows(table)) == sorted(expected)
    balances = {r[0]: int(r[2]) for r in table_rows(table)}
    assert balances == {k: v["balance"] for k, v in expected.items()}
    streams = table_rows(travel.past.streams)
    assert sum(int(line[3]) for line in streams) == middle  # events per stream up to then
    travel.past.streams.selectRow(0)
    qtbot.waitUntil(lambda: "version" in travel.past.state.toPlainText(), timeout=5000)
    shot(window, "as_of")
    qtbot.mouseClick(travel.control.now, Qt.MouseButton.LeftButton)
    assert not travel.banner.isVisible() and travel.position is None
    travel.control.time_edit.setText("2001-01-01T00:00:00Z")
    qtbot.mouseClick(travel.control.go, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: travel.past.data is not None and travel.past.data.position == 0,
                    timeout=10000)
    assert travel.banner.isVisible() and table_rows(travel.past.tables["bank_accounts"]) == []



def _panel_places(window: Any) -> list[Any]:
    return [panel.geometry() for panel in (
        window.centralWidget(), window.streams_panel, window.timeline_panel,
        window.global_log_panel, window.side_tabs)]


def test_moving_in_time_moves_no_panel(make_window: Any, qtbot: Any, bank_store: str) -> None:
    """The banner is in the status bar and the streams count is elided: going to the past
    and back re-lays out no panel (a banner above them did, repainting all of them)."""
    window = make_window(bank_store)
    window.resize(1000, 700)
    qtbot.wait(50)
    travel, places = window.time_travel, _panel_places(window)
    travel.show_moment(3)
    qtbot.waitUntil(lambda: travel.banner.isVisible() and "as of position 3" in
                    window.streams_panel.count_label.text(), timeout=5000)
    qtbot.wait(50)  # any layout it asked for is done
    assert _panel_places(window) == places
    assert "as of position 3 of" in travel.banner.toolTip()  # the whole text, when elided
    travel.show_moment(None)
    qtbot.waitUntil(lambda: not window.streams_panel.model.is_loading(), timeout=5000)
    qtbot.wait(50)
    assert not travel.banner.isVisible() and _panel_places(window) == places

def test_diff_between_two_positions(make_window: Any, qtbot: Any, bank_store: str) -> None:
    window = make_window(bank_store)
    diff = window.time_travel.diff
    window.time_travel.show_tab()
    window.time_travel.tabs.setCurrentWidget(diff)
    head = window.session.app.store.head()
    diff.projection.setCurrentText("bank_accounts")
    diff.first.setValue(head // 2)
    diff.second.setValue(head)
    with qtbot.waitSignal(diff.sig_done, timeout=10000) as done:
        qtbot.mouseClick(diff.compare, Qt.MouseButton.LeftButton)
    found = done.args[0]
    before, after = (replay(bank_store, "bank_accounts", p) for p in (head // 2, head))
    assert {r["aggregate_id"] for r in found.added} == after.keys() - before.keys()
    assert {c.key for c in found.changed} == {k for k in before.keys() & after.keys()
                                             if before[k] != after[k]}
    lines = table_rows(diff.table)
    assert any(line[0] == "changed" and line[2] == "balance" for line in lines)
    assert f"{len(found.changed)} changed" in diff.summary.text()
    shot(window, "diff")


def test_shadow_rebuild_of_changed_code(make_window: Any, qtbot: Any, bank_store: str) -> None:
    window = make_window(bank_store, domain="tests.timetravel_domains:changed_bank")
    app = window.session.app
    shadow = window.time_travel.shadow
    window.time_travel.show_tab()
    window.time_travel.tabs.setCurrentWidget(shadow)
    shadow.projection.setCurrentText("bank_accounts")
    live_before = keyed_rows(app.projection("bank_accounts").spec,
                             app.store.projection_rows(app.projection("bank_accounts").spec))
    with qtbot.waitSignal(shadow.sig_done, timeout=20000) as done:
        qtbot.mouseClick(shadow.start, Qt.MouseButton.LeftButton)
        app.dispatch(DepositMoney(aggregate_id="acc-001", amount=9))  # arrives meanwhile
    built = done.args[0]
    assert not built.diff.is_empty and shadow.swap.isEnabled()
    assert "changed" in shadow.summary.text()
    shot(window, "shadow")
    qtbot.mouseClick(shadow.discard, Qt.MouseButton.LeftButton)
    assert "Discarded" in shadow.summary.text() and not shadow.swap.isEnabled()
    spec = app.projection("bank_accounts").spec
    after_discard = keyed_rows(spec, app.store.projection_rows(spec))
    assert after_discard["acc-002"] == live_before["acc-002"]
    with qtbot.waitSignal(shadow.sig_done, timeout=20000):
        qtbot.mouseClick(shadow.start, Qt.MouseButton.LeftButton)
    app.dispatch(DepositMoney(aggregate_id="acc-002", amount=4))  # after the diff, pre-swap
    with qtbot.waitSignal(shadow.sig_swapped, timeout=20000):
        qtbot.mouseClick(shadow.swap, Qt.MouseButton.LeftButton)
    head = app.store.head()
    assert f"caught up to position {head}" in shadow.summary.text()
    assert keyed_rows(spec, app.store.projection_rows(spec)) == replay(
        bank_store, "bank_accounts", head, changed_bank)
    with qtbot.waitSignal(shadow.sig_done, timeout=20000):
        qtbot.mouseClick(shadow.start, Qt.MouseButton.LeftButton)
    assert "No difference" in shadow.summary.text() and not shadow.swap.isEnabled()


def test_event_catalogue_and_try(make_window: Any, qtbot: Any, bank_store: str) -> None:
    window = make_window(bank_store)
    view = window.time_travel.catalog
    window.time_travel.show_tab()
    with qtbot.waitSignal(view.sig_loaded, timeout=10000):
        window.time_travel.tabs.setCurrentWidget(view)
    names = [line[0] for line in table_rows(view.table)]
    assert "MoneyDeposited" in names and "TransferRequested" in names
    row = names.index("MoneyDeposited")
    deposited = table_rows(view.table)[row]
    assert deposited[1] == "Account" and deposited[4].startswith("v1: ")
    view.table.selectRow(row)
    assert "amount: int" in view.details.toPlainText()
    with qtbot.waitSignal(view.sig_tried, timeout=10000) as tried:
        qtbot.mouseClick(view.try_button, Qt.MouseButton.LeftButton)
    assert tried.args[0].ok and "all" in view.details.toPlainText()
    shot(window, "catalogue")
