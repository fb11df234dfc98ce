"""Small things a user notices: plurals and articles, the live badge, filters and folders
of a newly opened store, the missing-file message, colours, help pages."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QTextBrowser

from incident_core import Application
from incident_core.engine.results import with_article
from incident_core.examples.bank import domain as bank_domain
from incident_core.examples.library import domain as library_domain
from incident_gui.presentation import file_dialogs
from incident_gui.presentation.colors import color_for_event_type, use_domain_colors
from incident_gui.presentation.formatting import plural
from incident_gui.window.main_window import MainWindow


def test_plurals_and_articles() -> None:
    assert [plural(n, "event") for n in (0, 1, 2, 1200)] == [
        "0 events", "1 event", "2 events", "1,200 events"]
    assert plural(1, "field") == "1 field"
    assert with_article("Account") == "an Account" and with_article("Transfer") == "a Transfer"


def test_a_wrong_aggregate_type_reads_well() -> None:
    app = Application.open("memory:", bank_domain, create=True)
    try:
        app.dispatch_data("OpenAccount", {"aggregate_id": "acc-1"})
        result = app.dispatch_data("RequestTransfer", {
            "aggregate_id": "acc-1", "source_account_number": "a",
            "destination_account_number": "b", "amount": 1})
    finally:
        app.close()
    assert "'acc-1' is an Account, not a Transfer" in result.detail


def test_live_is_shown_only_with_a_store(make_window: Callable[..., Any], bank_store: str,
                                         qtbot: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    live = window.findChild(QLabel, "statusLive")
    assert not live.isVisible()
    window.open_target(bank_store)
    assert live.isVisible() and live.text() == "● live"
    window.close_store()
    assert not live.isVisible()


def test_the_event_count_is_singular_for_one(tmp_path: Path, make_window: Callable[..., Any]
                                             ) -> None:
    target = str(tmp_path / "one.sqlite3")
    app = Application.open(target, bank_domain, create=True)
    app.dispatch_data("OpenAccount", {"aggregate_id": "acc-1"})
    app.close()
    window = make_window(target)
    assert window.findChild(QLabel, "statusEvents").text() == "1 event"


def test_a_missing_file_is_explained_without_command_line_advice(
        qtbot: Any, tmp_path: Path, message_boxes: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert not window.open_target(str(tmp_path / "nowhere.sqlite3"))
    [text] = message_boxes.texts()
    assert "no store at" in text and "incident init" not in text
    assert "File ▸ New store" in text


def test_a_new_store_starts_unfiltered_at_the_top(make_window: Callable[..., Any],
                                                  bank_store: str, tmp_path: Path,
                                                  qtbot: Any) -> None:
    window = make_window(bank_store)
    window.streams_panel.filter_edit.setText("acc-00*")
    window.global_log_panel.filters.text_edit.setText("amount")
    other = tmp_path / "other.sqlite3"
    shutil.copyfile(bank_store, other)
    window.open_target(str(other))
    assert window.streams_panel.filter_edit.text() == ""
    assert window.global_log_panel.filters.current_filter().is_empty
    qtbot.waitUntil(lambda: window.streams_panel.model.rowCount() > 0, timeout=5000)
    assert window.global_log_panel.view.verticalScrollBar().value() == 0


def test_file_dialogs_open_in_the_stores_folder(make_window: Callable[..., Any],
                                                bank_store: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def ask(_parent: Any, _caption: str, start: str, _filter: str) -> tuple[str, str]:
        asked.append(start)
        return "", ""  # cancelled

    monkeypatch.setattr(file_dialogs, "get_open_file_name", ask)
    monkeypatch.setattr(file_dialogs, "get_save_file_name", ask)
    window = make_window(bank_store)
    window.actions_.open.trigger()
    window.actions_.new.trigger()
    folder = str(Path(bank_store).resolve().parent)
    assert asked == [folder, str(Path(folder) / "store.sqlite3")]


def test_each_domain_event_type_gets_its_own_hue() -> None:
    use_domain_colors([])  # no domain: colours by hash alone
    assert (color_for_event_type("TransferRequested").hslHue()
            == color_for_event_type("TransferCompleted").hslHue())  # by hash alone: same
    for domain in (bank_domain, library_domain):
        assigned = use_domain_colors(domain.event_types)
        hues = [color.hslHue() for color in assigned.values()]
        assert len(set(hues)) == len(domain.event_types)
        assert assigned == use_domain_colors(domain.event_types)  # stable
    use_domain_colors(bank_domain.event_types)
    assert (color_for_event_type("TransferRequested").hslHue()
            != color_for_event_type("TransferCompleted").hslHue())
    use_domain_colors([])


def test_help_has_shortcuts_and_the_documentation(make_window: Callable[..., Any],
                                                  bank_store: str) -> None:
    window = make_window(bank_store)
    window.actions_.shortcuts.trigger()
    shortcuts = window.findChild(QTextBrowser, "shortcutsDialogText")
    text = shortcuts.toPlainText()
    assert "Ctrl+R" in text and "Rebuild all projections" in text and "Ctrl+Return" in text
    window.actions_.docs.trigger()
    docs = window.findChild(QTextBrowser, "documentationDialogText")
    assert "Quick start" in docs.toPlainText()
    assert window.findChild(QLineEdit, "streamFilter") is not None
