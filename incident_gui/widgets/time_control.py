"""The window's position/time control and the banner shown while it points at the past.

Choose a position (spin box) or type a time (the last position at or before it is used),
then Go; *Now* returns to the present. `sig_moment` carries the chosen position, or None
for now. The time is resolved off the UI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QStyleOption,
    QWidget,
)

from incident_core.engine.application import Application
from incident_core.operations.asof import resolve_moment
from incident_gui.presentation.formatting import local_time
from incident_gui.widgets.elided_label import ElidedLabel
from incident_gui.widgets.tt_common import Runner

__all__ = ["PastBanner", "TimeControl"]


class TimeControl(QWidget):
    sig_moment = Signal(object)  # int position, or None for now
    sig_error = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeControl")
        self._app: Application | None = None
        self.position: int | None = None
        self._runner = Runner(lambda message, _details: self.sig_error.emit(message))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("As of position"))
        self.spin = QSpinBox()
        self.spin.setObjectName("asOfPosition")
        self.spin.setMinimumWidth(90)
        layout.addWidget(self.spin)
        layout.addWidget(QLabel("or time"))
        self.time_edit = QLineEdit()
        self.time_edit.setObjectName("asOfTime")
        self.time_edit.setPlaceholderText("2026-12-01T04:00:00Z")
        self.time_edit.setClearButtonEnabled(True)
        self.time_edit.setMaximumWidth(240)
        layout.addWidget(self.time_edit)
        self.go = QPushButton("Go")
        self.go.setObjectName("asOfGo")
        self.now = QPushButton("Now")
        self.now.setObjectName("asOfNow")
        self.now.setToolTip("Back to the present")
        layout.addWidget(self.go)
        layout.addWidget(self.now)
        self.go.clicked.connect(self.choose)
        self.time_edit.returnPressed.connect(self.choose)
        self.now.clicked.connect(self.back_to_now)
        self.set_application(None)

    def set_application(self, app: Application | None, head: int = 0) -> None:
        """The open application and its head (read off the UI thread when it opened)."""
        self._app = app
        self.setEnabled(app is not None)
        self.set_head(head)
        self.position = None
        self.now.setEnabled(False)

    def set_head(self, head: int) -> None:
        following = self.spin.value() == self.spin.maximum()
        self.spin.setMaximum(head)
        if self.position is None or following:
            self.spin.setValue(head)

    def choose(self) -> None:
        """Go to the typed time, else to the position in the spin box."""
        app, text = self._app, self.time_edit.text().strip()
        if app is None:
            return
        if text:
            self._runner.call(lambda: resolve_moment(app, text), self._show)
        else:
            self._show(self.spin.value())

    def go_to(self, position: int) -> None:
        self.time_edit.clear()
        self.spin.setValue(position)
        self._show(position)

    def _show(self, position: object) -> None:
        assert isinstance(position, int)
        self.position = position
        self.spin.setValue(position)
        self.now.setEnabled(True)
        self.sig_moment.emit(position)

    def back_to_now(self) -> None:
        self.position = None
        self.time_edit.clear()
        self.spin.setValue(self.spin.maximum())
        self.now.setEnabled(False)
        self.sig_moment.emit(None)


class PastBanner(ElidedLabel):
    """A strip in the status bar while the window shows the past (one line, elided to its
    place; the whole text in its tool tip). Not above the panels: there, showing or hiding
    it re-laid out and repainted every panel at each move in time (the longest stall of
    "back to now"); in the status bar it moves nothing else."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("pastBanner")
        self.setStyleSheet("QLabel#pastBanner { background: #8a4b00; color: white; "
                           "padding: 0px 8px; font-weight: bold; }")
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        option = QStyleOption()
        option.initFrom(self)
        painter = QPainter(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, self)
        painter.end()
        super().paintEvent(event)

    def show_moment(self, position: int | None, head: int, when: str = "") -> None:
        if position is None:
            self.hide()
            return
        at = f" — recorded {local_time(when)}" if when else ""
        self.setText(f"Showing the past: as of position {position} of {head}{at}. "
                     "Streams, projections and states are as of then, commands are off; "
                     "press Now to return.")
        self.show()
