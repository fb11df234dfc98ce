"""The status bar: which store, how many events, the head position, read-only and live."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from incident_gui.presentation.formatting import plural
from incident_gui.presentation.naming import named

__all__ = ["StoreStatusBar"]

_BADGE = ("QLabel {{ background: {bg}; color: white; border-radius: 4px; padding: 1px 6px;"
          " font-weight: bold; }}")


class StoreStatusBar(QStatusBar):
    """Permanent fields on the right; transient messages on the left as usual."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.store_label = named(QLabel("No store open"), "statusStore")
        # A long path must not widen the window past a small screen: the label may shrink
        # (the full path is its tooltip).
        self.store_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("x" * 16))
        self.store_label.setTextFormat(Qt.TextFormat.PlainText)  # a path or URL
        self.events_label = named(QLabel(), "statusEvents")
        self.head_label = named(QLabel(), "statusHead")
        self.read_only_badge = named(QLabel("READ-ONLY"), "readOnlyBadge")
        self.read_only_badge.setStyleSheet(_BADGE.format(bg="#b45309"))
        self.read_only_badge.setToolTip("Opened read-only: nothing can be written")
        self.live_label = named(QLabel(), "statusLive")
        for widget in (self.store_label, self.events_label, self.head_label,
                       self.read_only_badge, self.live_label):
            self.addPermanentWidget(widget)
        self.read_only_badge.hide()

    def show_store(self, label: str | None, *, read_only: bool) -> None:
        self.store_label.setText(label or "No store open")
        self.store_label.setToolTip(label or "")
        self.read_only_badge.setVisible(label is not None and read_only)
        if label is None:
            self.events_label.clear()
            self.head_label.clear()

    def show_counts(self, events: int, head: int) -> None:
        self.events_label.setText(plural(events, "event"))
        self.head_label.setText(f"head #{head:,}")

    def show_live(self, live: bool, problem: str = "") -> None:
        if problem:
            self.live_label.setText("⚠ live updates failing")
            self.live_label.setToolTip(problem)
        else:
            self.live_label.setText("● live" if live else "❚❚ paused")
            self.live_label.setToolTip("Events recorded elsewhere appear within a second"
                                       if live else "Live updates are paused")
