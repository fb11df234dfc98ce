"""`ConversationWindow`: the causation graph of a conversation with its tool bar (fit, zoom,
export SVG / PNG) and a one-line summary; a separate window beside the inspector. The
conversation is traced off the UI thread (`show_for`); the summary says "Tracing…" until
it arrives, and an answer overtaken by a newer request is dropped."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from incident_core import Application
from incident_core.operations.trace import Conversation, trace_app
from incident_gui.presentation import file_dialogs
from incident_gui.presentation.naming import named
from incident_gui.tasks.query_lane import QueryLane, Requests, Ticket
from incident_gui.widgets.conversation_items import STANDING_OUT
from incident_gui.widgets.conversation_view import ConversationView

__all__ = ["ConversationWindow"]

_LEGEND = ("▶ command   ● event (colour by type)   ⚙ process-manager step   "
           "orange dashed: handled, nothing followed   red: parked")


class ConversationWindow(QWidget):
    """`conversationWindow`."""

    sig_event_clicked = Signal(object)  # RecordedEvent

    def __init__(self, parent: QWidget | None = None, *, lane: QueryLane | None = None
                 ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("conversationWindow")
        self._reads = Requests(lane)
        self.setWindowTitle("Conversation")
        self.resize(1100, 520)
        self.view = ConversationView(self)
        self.view.sig_event_clicked.connect(self.sig_event_clicked)
        self.summary = named(QLabel(), "conversationSummary")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.legend = QLabel(_LEGEND)
        self.legend.setStyleSheet("color: palette(mid);")
        self._fit_pending = False
        self._layout()

    def _button(self, text: str, name: str, shortcut: str | None = None) -> QPushButton:
        button = named(QPushButton(text), name)
        if shortcut:
            button.setShortcut(QKeySequence(shortcut))
        return button

    def _layout(self) -> None:
        bar = QHBoxLayout()
        fit = self._button("Fit", "fitButton", "Ctrl+0")
        fit.clicked.connect(self.view.fit)
        zoom_in = self._button("+", "zoomInButton", "Ctrl++")
        zoom_in.clicked.connect(lambda: self.view.zoom(1.25))
        zoom_out = self._button("-", "zoomOutButton", "Ctrl+-")
        zoom_out.clicked.connect(lambda: self.view.zoom(0.8))
        svg = self._button("Export SVG…", "exportSvgButton")
        svg.clicked.connect(lambda: self._export("svg"))
        png = self._button("Export PNG…", "exportPngButton")
        png.clicked.connect(lambda: self._export("png"))
        for widget in (fit, zoom_in, zoom_out):
            bar.addWidget(widget)
        bar.addWidget(self.summary, 1)
        bar.addWidget(svg)
        bar.addWidget(png)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)

    def show_for(self, app: Application, ident: str) -> Ticket:
        """Trace `ident` (event id or correlation id) off the UI thread, then draw it; the
        graph shown so far stays until then. A failure is shown in the summary."""
        self._reads.reset()  # an older request's answer is stale now
        self.summary.setText(f"Tracing {ident}…")
        return self._reads.submit(lambda: trace_app(app, ident), self.set_conversation,
                                  self._trace_failed)

    def _trace_failed(self, message: str, _details: str) -> None:
        self.view.set_conversation(None)
        self.summary.setText(message)

    def is_tracing(self) -> bool:
        return self._reads.busy()

    def clear(self) -> None:
        """Another store: drop the graph and any trace still on its way."""
        self._reads.reset()
        self.set_conversation(None)

    def set_conversation(self, conversation: Conversation | None) -> None:
        self.view.set_conversation(conversation)
        if conversation is None:
            self.summary.setText("")
            return
        odd = sum(1 for n in conversation.nodes if n.status in STANDING_OUT and not n.rejected)
        rejected = sum(1 for n in conversation.nodes if n.rejected)
        text = (f"correlation {conversation.correlation_id} — {len(conversation.nodes)} nodes, "
                f"{len(conversation.lanes)} lanes")
        if odd:
            text += f", {odd} step(s) that did not go on"
        if rejected:
            text += f", {rejected} rejected saga command(s)"
        if conversation.truncated:
            text += " (cut: more events than shown)"
        self.summary.setText(text)
        self.setWindowTitle(f"Conversation {conversation.correlation_id[:8]}")
        self._fit_pending = True
        if self.isVisible():
            self._fit_now()

    def _fit_now(self) -> None:
        if not self._fit_pending:
            return
        self._fit_pending = False
        self.view.fit()
        focus = self.view.conversation.focus if self.view.conversation else None
        if focus in self.view.nodes and self.view.transform().m11() < 0.35:
            self.view.resetTransform()  # too long to read when fitted: show the focus
            self.view.apply_detail()
            self.view.centerOn(self.view.nodes[focus])

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_pending:
            QTimer.singleShot(0, self._fit_now)  # once the view has its final size

    def _export(self, kind: str) -> None:
        path, _ = file_dialogs.get_save_file_name(self, f"Export {kind.upper()}",
                                                  f"conversation.{kind}",
                                                  f"{kind.upper()} (*.{kind})")
        if path:
            self.export(path, kind)

    def export(self, path: str, kind: str) -> None:
        if kind == "svg":
            self.view.export_svg(path)
        else:
            self.view.export_png(path)
