"""Send a command: pick its type, fill the generated form, preview it or record it.

Preview (`Application.preview`) shows the events the command would record and the state
they would lead to, and writes nothing; Dispatch (Ctrl+Return) records the command
(`Application.dispatch`) and emits `sig_dispatched(list[RecordedEvent])`. Both run in a
worker thread (a SQLite writer may wait seconds for a busy lock) with the buttons disabled.
The buttons are also disabled while the input is invalid, so invalid input never reaches the
application; a read-only store can preview but not dispatch. A rejection is shown in plain
words; an error raised by domain code opens an error dialog with the traceback as details.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from incident_core import Accepted, Application, Conflicted, Preview, RecordedEvent, Rejected
from incident_core.domain import Event
from incident_gui import dialogs
from incident_gui.colors import color_for_event_type
from incident_gui.formatting import compact_json, pretty_json
from incident_gui.widgets.command_form import CommandForm, error_color, humanize
from incident_gui.workers import OperationWorker, call_operation

__all__ = ["REJECTION_WORDS", "CommandPanel", "describe_rejection", "host_binds_shortcut",
           "panel_shortcut"]

REJECTION_WORDS = {
    "no_enough_balance": "Not enough balance",
    "account_not_found": "There is no such account",
    "account_already_opened": "This account is already open",
    "transfer_not_found": "There is no such transfer",
    "transfer_status_invalid": "The transfer cannot do that in its current status",
    "wrong_aggregate_type": "That id belongs to a different kind of aggregate",
    "book_not_found": "There is no such book",
    "book_already_lent": "The book is already lent",
    "member_not_found": "There is no such member",
    "conflict": "Other writers kept changing this aggregate",
}
DISPATCH_SHORTCUT = "Ctrl+Return"


def host_binds_shortcut(widget: QWidget, sequence: QKeySequence) -> bool:
    """Whether the window hosting `widget` has an action of its own on `sequence`."""
    window = widget.window()
    if window is widget:
        return False
    actions = set(window.findChildren(QAction)) | set(window.actions())
    return any(sequence in action.shortcuts() for action in actions
               if not _inside(widget, action.parent()))


def _inside(widget: QWidget, owner: object) -> bool:
    return isinstance(owner, QWidget) and (owner is widget or widget.isAncestorOf(owner))


def panel_shortcut(panel: QWidget, sequence: str, slot: Callable[[], None]) -> QShortcut:
    """A key for `slot` while the focus is inside `panel`. Panels call
    `host_binds_shortcut` when shown and disable theirs if the window has an action on the
    same key (two bindings would make it ambiguous, and neither would fire)."""
    shortcut = QShortcut(QKeySequence(sequence), panel)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    shortcut.activated.connect(slot)
    return shortcut


def describe_rejection(reason: str, detail: str = "") -> str:
    """A reason code in plain words: known codes by name, others de-snake-cased."""
    words = REJECTION_WORDS.get(reason) or humanize(reason)
    return f"{words} ({detail})" if detail else words


class CommandPanel(QWidget):
    """Compose, preview and dispatch commands of the open application's domain."""

    sig_dispatched = Signal(object)  # list[RecordedEvent] recorded by a successful dispatch

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandPanel")
        self._app: Application | None = None
        self._read_only = False
        self._busy = False
        self._generation = 0
        self._worker: OperationWorker[Any] | None = None
        self._build()
        self._update_buttons()

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self._combo = QComboBox(self)
        self._combo.setObjectName("commandTypeCombo")
        self._combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._combo.currentIndexChanged.connect(self._on_command_chosen)
        self._about = QLabel(self)
        self._about.setObjectName("commandDescription")
        self._about.setWordWrap(True)
        self._about.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._form = CommandForm(self)
        self._form.sig_validity_changed.connect(lambda _valid: self._update_buttons())
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._form)
        self._preview_button = QPushButton("Preview", self)
        self._preview_button.setObjectName("previewButton")
        self._preview_button.setToolTip("Show what the command would record; writes nothing")
        self._preview_button.clicked.connect(self.preview)
        self._dispatch_button = QPushButton("Dispatch", self)
        self._dispatch_button.setObjectName("dispatchButton")
        self._dispatch_button.setDefault(True)
        self._dispatch_button.clicked.connect(self.dispatch)
        self._shortcut = panel_shortcut(self, DISPATCH_SHORTCUT, self.dispatch)
        self._status = QLabel(self)
        self._status.setTextFormat(Qt.TextFormat.PlainText)  # messages quote store text
        self._status.setObjectName("commandStatus")
        self._result = QTextBrowser(self)
        self._result.setObjectName("commandResult")
        self._result.setOpenLinks(False)
        self._result.setPlaceholderText("Results of Preview and Dispatch appear here.")
        self._layout(scroll)

    def _layout(self, scroll: QScrollArea) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Command:", self))
        top.addWidget(self._combo, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self._status, 1)
        buttons.addWidget(self._preview_button)
        buttons.addWidget(self._dispatch_button)
        upper = QWidget(self)
        column = QVBoxLayout(upper)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addWidget(self._about)
        column.addWidget(scroll, 1)
        column.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(upper)
        splitter.addWidget(self._result)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        outer = QVBoxLayout(self)
        outer.addWidget(splitter)

    def showEvent(self, event: QShowEvent) -> None:
        self._shortcut.setEnabled(not host_binds_shortcut(self, self._shortcut.key()))
        super().showEvent(event)

    # -- public API ---------------------------------------------------------------------
    def set_application(self, app: Application | None) -> None:
        """Show the commands of `app`'s domain (None: nothing is open)."""
        self._app = app
        self._generation += 1
        self._set_busy(False)
        self._result.clear()
        self._status.clear()
        self._combo.blockSignals(True)
        self._combo.clear()
        if app is not None:
            self._fill_combo(app)
        self._combo.blockSignals(False)
        self._on_command_chosen(keep_values=False)

    def set_read_only(self, read_only: bool) -> None:
        """Read-only stores can preview commands but not dispatch them."""
        self._read_only = read_only
        self._update_buttons()

    def select_command(self, name: str) -> None:
        index = self._combo.findData(name)
        if index >= 0:
            self._combo.setCurrentIndex(index)

    def set_aggregate_id(self, aggregate_id: str) -> None:
        """Address the command to `aggregate_id` (e.g. the stream selected elsewhere)."""
        self._form.set_field_value("aggregate_id", aggregate_id)

    @property
    def form(self) -> CommandForm:
        return self._form

    def is_busy(self) -> bool:
        return self._busy

    # -- commands -----------------------------------------------------------------------
    def _fill_combo(self, app: Application) -> None:
        domain = app.domain
        public = list(domain.public_command_names)
        internal = [name for name in domain.command_types if name not in public]
        for name in public:
            self._combo.addItem(name, name)
            self._combo.setItemData(self._combo.count() - 1, _doc(app, name),
                                    Qt.ItemDataRole.ToolTipRole)
        if internal:
            self._combo.insertSeparator(self._combo.count())
            for name in internal:
                self._combo.addItem(name, name)
                tip = "Internal: normally dispatched by a process manager.\n" + _doc(app, name)
                self._combo.setItemData(self._combo.count() - 1, tip.strip(),
                                        Qt.ItemDataRole.ToolTipRole)

    def _on_command_chosen(self, _index: int = -1, *, keep_values: bool = True) -> None:
        name = self._combo.currentData()
        app = self._app
        self._form.set_command(app.domain if app else None, name, keep_values=keep_values)
        about = _doc(app, name) if app is not None and name else ""
        if app is not None and name and name not in app.domain.public_command_names:
            about = f"Internal command (normally sent by a process manager). {about}"
        self._about.setText(about)
        self._about.setVisible(bool(about))
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self._app is not None and not self._busy and self._form.has_valid_input()
        self._preview_button.setEnabled(ready)
        self._dispatch_button.setEnabled(ready and not self._read_only)
        self._dispatch_button.setToolTip(
            "The store is open read-only: commands can be previewed, not recorded"
            if self._read_only else f"Record the command ({DISPATCH_SHORTCUT})")

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        self._combo.setEnabled(not busy)
        self._status.setText(message)
        self._update_buttons()

    # -- preview / dispatch -------------------------------------------------------------
    def preview(self) -> None:
        """Show what the current input would record (nothing is written)."""
        app, command = self._app, self._form.command()
        if app is None or command is None or self._busy:
            self._update_buttons()
            return
        self._run(lambda: app.preview(command), self._show_preview, "Previewing…")

    def dispatch(self) -> None:
        """Record the current input, if it is valid and the store is writable."""
        app, command = self._app, self._form.command()
        if app is None or command is None or self._busy or self._read_only:
            self._update_buttons()
            return
        self._run(lambda: app.dispatch(command), self._show_dispatched, "Recording…")

    def _run(self, call: Callable[[], Any], done: Callable[[Any], None], message: str) -> None:
        generation = self._generation
        worker: OperationWorker[Any] = OperationWorker(lambda: call_operation(call))
        self._worker = worker

        def finished(result: object) -> None:
            if generation == self._generation:
                self._finish(done, result)

        def errored(message: str, _details: str) -> None:
            if generation == self._generation:
                self._failed(worker, message)

        worker.signals.finished.connect(finished)
        worker.signals.errored.connect(errored)
        self._set_busy(True, message)
        worker.start()

    def _finish(self, done: Callable[[Any], None], result: Any) -> None:
        self._worker = None
        self._set_busy(False)
        done(result)

    def _failed(self, worker: OperationWorker[Any], message: str) -> None:
        self._worker = None
        self._set_busy(False, "Failed")
        self._show_html(f"<p><b style='color:{self._red()}'>Failed:</b> "
                        f"{html.escape(message)}</p><p>Nothing was recorded.</p>")
        if worker.exception is not None:
            dialogs.show_exception(self, "The command failed", worker.exception)

    def _show_dispatched(self, result: Any) -> None:
        if isinstance(result, Accepted):
            count = len(result.events)
            self._status.setText(f"Recorded {count} event{'s' if count != 1 else ''}")
            self._show_html(_heading(f"Recorded {count} event{'s' if count != 1 else ''}")
                            + _recorded_table(result.events))
            self.sig_dispatched.emit(list(result.events))
        elif isinstance(result, Rejected):
            self._status.setText("Rejected")
            self._show_html(self._rejection_html("Rejected", result))
        elif isinstance(result, Conflicted):
            self._status.setText("Conflict")
            self._show_html(
                f"<p><b style='color:{self._red()}'>Conflict:</b> other writers kept changing "
                f"{html.escape(result.aggregate_id)}; gave up after {result.attempts} "
                "attempts.</p><p>Nothing was recorded. Try again.</p>")

    def _show_preview(self, preview: Preview) -> None:
        if preview.rejection is not None:
            self._status.setText("Preview: would be rejected")
            self._show_html(self._rejection_html("Would be rejected", preview.rejection)
                            + "<p>Preview only: nothing was recorded.</p>")
            return
        self._status.setText("Preview: nothing recorded")
        after = preview.after
        body = _heading("Preview — nothing was recorded")
        body += (f"<p>{preview.before.aggregate_type} {html.escape(preview.before.aggregate_id)}"
                 f" would go from version {preview.before.version} to "
                 f"{after.version if after else preview.before.version}.</p>")
        body += "<p><b>Events it would record</b></p>" + _event_list(preview.events)
        if after is not None:
            state = pretty_json(after.state.model_dump(mode="json"))
            body += f"<p><b>State after</b></p><pre>{html.escape(state)}</pre>"
        self._show_html(body)

    def _rejection_html(self, title: str, rejection: Rejected) -> str:
        words = html.escape(describe_rejection(rejection.reason, rejection.detail))
        return (f"<p><b style='color:{self._red()}'>{title}:</b> {words}</p>"
                f"<p><small>Reason code: <code>{html.escape(rejection.reason)}</code>"
                "</small></p>")

    def _red(self) -> str:
        return error_color(self.palette()).name()

    def _show_html(self, body: str) -> None:
        self._result.setHtml(body)


def _doc(app: Application | None, name: str) -> str:
    if app is None or name not in app.domain.command_types:
        return ""
    doc = app.domain.command_types[name].__doc__ or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def _heading(text: str) -> str:
    return f"<p><b>{html.escape(text)}</b></p>"


def _swatch(event_type: str) -> str:
    color = color_for_event_type(event_type).name()
    return f"<span style='color:{color}'>■</span> <b>{html.escape(event_type)}</b>"


def _recorded_table(events: Sequence[RecordedEvent]) -> str:
    rows = "".join(
        f"<tr><td>#{e.position}</td><td>{_swatch(e.event_type)}</td>"
        f"<td>{html.escape(e.aggregate_id)} v{e.version}</td>"
        f"<td><code>{html.escape(compact_json(e.data))}</code></td></tr>"
        for e in events)
    return f"<table cellspacing='0' cellpadding='3'>{rows}</table>"


def _event_list(events: Sequence[Event]) -> str:
    if not events:
        return "<p>(none)</p>"
    rows = "".join(
        f"<tr><td>{_swatch(type(e).__name__)}</td>"
        f"<td><code>{html.escape(compact_json(e.model_dump(mode='json')))}</code></td></tr>"
        for e in events)
    return f"<table cellspacing='0' cellpadding='3'>{rows}</table>"
