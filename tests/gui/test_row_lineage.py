"""Row lineage in the real window: a projection row's History… from its context menu, and
the event detail's "Rows it changed" opening the same history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QTableView

from incident_gui.widgets.row_history import RowHistoryDialog
from tests.gui.test_table_menus import choose, right_click


def _wait_history(qtbot: Any, window: Any) -> RowHistoryDialog:
    qtbot.waitUntil(lambda: window.lineage.dialog is not None
                    and bool(window.lineage.dialog.entries), timeout=10_000)
    dialog: RowHistoryDialog = window.lineage.dialog
    qtbot.addWidget(dialog)
    return dialog


def test_history_of_a_projection_row_from_its_menu(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    window.side_tabs.setCurrentWidget(window.projection_panel)
    view = window.findChild(QTableView, "projection_bank_accounts")
    qtbot.waitUntil(lambda: view.model().rowCount() > 3, timeout=10_000)
    key = view.model().row_key(2)
    choose(right_click(view, 2, 1), "History…")
    dialog = _wait_history(qtbot, window)
    expected = window.session.app.row_history("bank_accounts", key)
    assert dialog.entries == expected and dialog.tree.topLevelItemCount() == len(expected)
    assert [dialog.tree.topLevelItem(i).text(1) for i in range(len(expected))] == [
        e.event_type for e in expected]
    assert expected[0].event_type == "AccountOpened" and expected[0].before is None
    row = window.session.app.store.projection_rows(
        window.session.app.projection("bank_accounts").spec, after_key=None)
    assert {r["aggregate_id"]: r for r in row}[key]["balance"] == expected[-1].after["balance"]
    first = dialog.tree.topLevelItem(0)
    dialog.tree.setCurrentItem(first)
    assert dialog.after.topLevelItemCount() == 1 and dialog.before.topLevelItemCount() == 0
    dialog.tree.itemDoubleClicked.emit(first, 0)
    qtbot.waitUntil(lambda: window.event_detail.shown_event is not None
                    and window.event_detail.shown_event.event_id == expected[0].event_id,
                    timeout=5000)


def test_event_detail_lists_the_rows_it_changed(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    store = window.session.app.store
    received = next(e for e in store.read_events() if e.event_type == "MoneyReceived")
    window.show_event(received)
    detail = window.event_detail
    qtbot.waitUntil(lambda: len(detail.related_items("rows")) == 1, timeout=10_000)
    [item] = detail.related_items("rows")
    assert item.text(0) == f"bank_accounts · {received.aggregate_id}"
    assert "balance" in item.text(1)
    detail.related.itemClicked.emit(item, 0)
    dialog = _wait_history(qtbot, window)
    assert (dialog.projection, dialog.key) == ("bank_accounts", received.aggregate_id)
    assert received.position in [e.position for e in dialog.entries]
