"""Preview in the real window shows the saga cascade it computed without writing; the
dispatch then records exactly that cascade."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QTabWidget, QTextBrowser

from incident_gui.widgets.command_panel import CommandPanel
from tests.gui.test_command_outcome import child, type_into


def _digest(target: str) -> str:
    path = Path(target)
    return "".join(hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in sorted(path.parent.glob(path.name + "*")))


def test_preview_lists_the_cascade_then_dispatch_records_it(
        make_window: Callable[..., Any], bank_store: str, qtbot: Any) -> None:
    window = make_window(bank_store)
    panel = child(window, CommandPanel, "commandPanel")
    child(window, QTabWidget, "sideTabs").setCurrentWidget(panel)
    panel.select_command("RequestTransfer")
    for name, text in (("aggregate_id", "t-cascade"), ("source_account_number", "acc-005"),
                       ("destination_account_number", "acc-006"), ("amount", "7")):
        type_into(qtbot, panel, name, text)
    before = _digest(bank_store)
    panel.preview()
    result = child(panel, QTextBrowser, "commandResult")
    qtbot.waitUntil(lambda: "would then record" in result.toPlainText(), timeout=10_000)
    text = result.toPlainText()
    assert "The transfer saga would then record 4 more on 3 aggregates" in text
    for aggregate in ("acc-005", "acc-006", "t-cascade"):
        assert f"Account {aggregate}" in text or f"Transfer {aggregate}" in text
    assert _digest(bank_store) == before
    with qtbot.waitSignal(panel.sig_dispatched, timeout=10_000) as blocker:
        panel.dispatch()
    recorded = [e.event_type for e in blocker.args[0][1:]]
    listed = [line.split("■")[1].split()[0] for line in text.splitlines() if "■" in line]
    assert sorted(recorded) == sorted(listed[1:])  # [0] is the command's own event
    assert len(recorded) == 4
