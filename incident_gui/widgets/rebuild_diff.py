"""Two panels about projection differences: between two positions of the log, and between
a shadow rebuild and the live rows (then Swap or Discard). Both run off the UI thread."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from incident_core.engine.application import Application
from incident_core.operations.asof import diff_positions
from incident_core.operations.rowdiff import RowDiff
from incident_core.operations.shadow import ShadowRebuild, shadow_rebuild
from incident_core.progress import Progress
from incident_gui.widgets.tt_common import Runner, fill_diff, make_table, summary

__all__ = ["PositionDiff", "ShadowPanel"]


def _projection_box(name: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    return box


class PositionDiff(QWidget):
    """Rows added, removed and changed in a projection between positions P1 and P2."""

    sig_done = Signal(object)  # RowDiff

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("positionDiff")
        self._app: Application | None = None
        self._runner = Runner(lambda message, _d: self.summary.setText(f"Failed: {message}"))
        self.projection = _projection_box("diffProjection")
        self.first, self.second = QSpinBox(), QSpinBox()
        self.first.setObjectName("diffFrom")
        self.second.setObjectName("diffTo")
        self.compare = QPushButton("Compare")
        self.compare.setObjectName("diffCompare")
        self.compare.clicked.connect(self.run)
        controls = _two_rows((QLabel("Projection"), self.projection),
                             (QLabel("from position"), self.first, QLabel("to"), self.second),
                             (self.compare,))
        self.summary = QLabel("")
        self.summary.setObjectName("diffSummary")
        self.table = make_table("diffTable")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.diff: RowDiff | None = None

    def set_application(self, app: Application | None, head: int = 0) -> None:
        """The open application and its head (read off the UI thread when it opened)."""
        self._app = app
        self.projection.clear()
        self.projection.addItems([] if app is None else sorted(app.domain.projections))
        self.set_head(head)
        self.table.setRowCount(0)
        self.summary.clear()

    def set_head(self, head: int) -> None:
        for box in (self.first, self.second):
            box.setMaximum(head)
        if self.second.value() == 0:
            self.second.setValue(head)

    def run(self) -> None:
        app, name = self._app, self.projection.currentText()
        if app is None or not name:
            return
        first, second = self.first.value(), self.second.value()
        self.summary.setText(f"Comparing {name} at {first} and {second}…")
        self._runner.call(lambda: diff_positions(app, name, first, second), self._show)

    def _show(self, result: object) -> None:
        assert isinstance(result, RowDiff)
        self.diff = result
        self.summary.setText(f"{result.name}, position {self.first.value()} → "
                             f"{self.second.value()}: {summary(result)}")
        fill_diff(self.table, result)
        self.sig_done.emit(result)


class ShadowPanel(QWidget):
    """Rebuild a projection into a shadow while the live one serves; diff; swap/discard."""

    sig_done = Signal(object)  # ShadowRebuild, or None after a swap or a discard
    sig_swapped = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shadowPanel")
        self._app: Application | None = None
        self._read_only = True
        self.shadow: ShadowRebuild | None = None
        self._runner = Runner(lambda message, _d: self._finish(f"Failed: {message}"))
        self.projection = _projection_box("shadowProjection")
        self.start = QPushButton("Shadow rebuild")
        self.start.setObjectName("shadowStart")
        self.swap, self.discard = QPushButton("Swap"), QPushButton("Discard")
        self.swap.setObjectName("shadowSwap")
        self.discard.setObjectName("shadowDiscard")
        self.progress = QProgressBar()
        self.progress.setObjectName("shadowProgress")
        self.progress.hide()
        self.start.clicked.connect(self.run)
        self.swap.clicked.connect(self.do_swap)
        self.discard.clicked.connect(self.do_discard)
        controls = _two_rows((QLabel("Projection"), self.projection),
                             (self.start,), (self.swap, self.discard))
        self.summary = QLabel("Rebuilds into a shadow; the live rows keep serving until Swap.")
        self.summary.setObjectName("shadowSummary")
        self.summary.setWordWrap(True)
        self.summary.setMinimumHeight(2 * self.summary.fontMetrics().lineSpacing() + 6)
        self.table = make_table("shadowTable")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self._buttons()

    def set_application(self, app: Application | None, read_only: bool) -> None:
        self._app, self._read_only, self.shadow = app, read_only, None
        self.projection.clear()
        self.projection.addItems([] if app is None else sorted(app.domain.projections))
        self.table.setRowCount(0)
        self._buttons()

    def _buttons(self) -> None:
        ready = self.shadow is not None and self.shadow.state == "ready"
        idle = not self._runner.busy
        self.start.setEnabled(self._app is not None and idle)
        self.swap.setEnabled(ready and idle and not self._read_only
                             and self.shadow is not None and not self.shadow.diff.is_empty)
        self.discard.setEnabled(ready and idle)

    def run(self) -> None:
        app, name = self._app, self.projection.currentText()
        if app is None or not name:
            return
        self.shadow = None
        self.progress.show()
        self.summary.setText(f"Rebuilding {name} into a shadow…")
        every = None if self._read_only else 10_000  # a read-only store keeps no snapshots
        self._runner.run(lambda: shadow_rebuild(app, name, every=every), self._built,
                         self._progress)
        self._buttons()

    def _progress(self, progress: object) -> None:
        assert isinstance(progress, Progress)
        self.progress.setMaximum(max(1, progress.total))
        self.progress.setValue(progress.done)

    def _built(self, result: object) -> None:
        assert isinstance(result, ShadowRebuild)
        self.shadow = result
        fill_diff(self.table, result.diff)
        self._finish(f"Shadow of {result.name} at position {result.position} "
                     f"({result.events_read} events, {result.events_per_second:,.0f}/s): "
                     f"{summary(result.diff)}")
        self.sig_done.emit(result)

    def do_swap(self) -> None:
        shadow = self.shadow
        if shadow is None:
            return
        self._runner.call(shadow.swap, self._swapped)
        self._buttons()

    def _swapped(self, checkpoint: object) -> None:
        assert self.shadow is not None
        name = self.shadow.name
        self._finish(f"Swapped {name} in; caught up to position {checkpoint}.")
        self.sig_swapped.emit(name)
        self.sig_done.emit(None)

    def do_discard(self) -> None:
        if self.shadow is not None:
            self.shadow.discard()
            self.table.setRowCount(0)
            self._finish(f"Discarded the shadow of {self.shadow.name}; the live rows are "
                         "unchanged.")
            self.sig_done.emit(None)

    def _finish(self, text: str) -> None:
        self.progress.hide()
        self.summary.setText(text)
        self._buttons()


def _two_rows(*rows: tuple[QWidget, ...]) -> QVBoxLayout:
    """Controls in short rows, so the side pane stays narrow (1366x768 at scale factor 2)."""
    box = QVBoxLayout()
    for widgets in rows:
        row = QHBoxLayout()
        for widget in widgets:
            row.addWidget(widget)
        row.addStretch(1)
        box.addLayout(row)
    return box
