"""The inspector never renders store text as rich text (issue 9, item 5): a crafted
`recorded_at` is shown as written, escaped, in the event detail and in tooltips."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from incident_core import RecordedEvent
from incident_gui.presentation.formatting import utc_tooltip

CRAFTED = "<img src='x'><b>9999</b>"


def test_a_crafted_recorded_at_is_shown_as_text(make_window, bank_store):
    window = make_window(bank_store)
    event = RecordedEvent(1, "e-1", "acc-001", "Account", "AccountOpened", 1, CRAFTED,
                          {"account_number": "acc-001"}, "{}", 1)
    window.event_detail.show_event(event)
    label = window.findChild(QLabel, "recordedLabel")
    assert "&lt;img src=&#x27;x&#x27;&gt;&lt;b&gt;9999&lt;/b&gt;" in label.text()
    assert "<img" not in label.text() and "<b>" not in label.text()


def test_a_crafted_time_in_a_tooltip_is_escaped():
    assert utc_tooltip("2026-01-01T00:00:00.000000+00:00") == (
        "UTC: 2026-01-01T00:00:00.000000+00:00")
    assert utc_tooltip(CRAFTED) == (
        "UTC: <span>&lt;img src=&#x27;x&#x27;&gt;&lt;b&gt;9999&lt;/b&gt;</span>")


def test_message_labels_show_store_text_as_plain_text(make_window, bank_store):
    window = make_window(bank_store)
    for name in ("stateError", "streamCount", "globalLogStatus", "statusStore"):
        label = window.findChild(QLabel, name)
        assert label is not None, name
        assert label.textFormat() == Qt.TextFormat.PlainText, name
