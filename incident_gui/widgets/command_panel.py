"""Send a command: pick its type, fill the generated form, preview it or record it.

Preview (`Application.preview`) shows the events the command would record and the state
they would lead to, and writes nothing; Dispatch (Ctrl+Return) records the command
(`Application.dispatch`), then shows everything it caused — its own events and what process
managers recorded in the same correlation, each a link (`sig_event_requested(event_id)`) —
and emits `sig_dispatched(list[RecordedEvent])` with all of them. Both run in a worker
thread (a SQLite writer may wait seconds for a busy lock) with the buttons disabled.
Only the domain's public commands are listed unless "Show all commands" is checked; each
command type starts from its own defaults; the aggregate id can be the selected stream, a
new id or an existing stream of the command's aggregate type (both read off the UI thread,
on the lane the window lends, or on one-shot workers for a panel on its own).
The buttons are also disabled while the input is invalid, so invalid input never reaches the
application; a read-only store can preview but not dispatch. A rejection is shown in the
domain's words (`Domain.rejection_messages`) with its detail; an error raised by domain code
opens an error dialog with the traceback as details.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QPalette, QShowEvent, QTextOption
from PySide6.QtWidgets import (
    QCheckBox,
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

from incident_core import Accepted, Application, Preview, StreamInfo
from incident_gui.tasks.query_lane import QueryLane, Requests
from incident_gui.tasks.workers import OperationWorker, call_operation, run_operation
from incident_gui.widgets import dialogs
from incident_gui.widgets.aggregate_id_picker import AggregateIdPicker
from incident_gui.widgets.command_form import CommandForm, error_color
from incident_gui.widgets.command_outcome import (
    DispatchOutcome,
    describe_rejection,
    dispatch_with_cascade,
)
from incident_gui.widgets.command_results import (
    command_doc,
    dispatched_view,
    failed_html,
    preview_view,
)
from incident_gui.widgets.panel_shortcuts import host_binds_shortcut, panel_shortcut

__all__ = ["CommandPanel", "describe_rejection", "host_binds_shortcut", "panel_shortcut"]

DISPATCH_SHORTCUT = "Ctrl+Return"


class CommandPanel(QWidget):
    """Compose, preview and dispatch commands of the open application's domain."""

    sig_dispatched = Signal(object)  # list[RecordedEvent]: the command's and its cascade's
    sig_event_requested = Signal(str)  # an event id: a link in the result was clicked

    def __init__(self, parent: QWidget | None = None, *, lane: QueryLane | None = None
                 ) -> None:
        super().__init__(parent)
        self.setObjectName("commandPanel")
        self._lookups = Requests(lane)  # the type of a stream chosen elsewhere
        self._app: Application | None = None
        self._read_only = False
        self._busy = False
        self._generation = 0
        self._build()
        self._update_buttons()

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self._combo = QComboBox(self)
        self._combo.setObjectName("commandTypeCombo")
        self._combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._combo.setMinimumContentsLength(12)  # long names elide: the panel stays narrow
        self._combo.currentIndexChanged.connect(self._on_command_chosen)
        self._show_all = QCheckBox("Show all commands", self)
        self._show_all.setObjectName("showAllCommands")
        self._show_all.setToolTip("Also list the commands process managers send (internal)")
        self._show_all.toggled.connect(self._on_show_all)
        self._picker = AggregateIdPicker(self, lane=self._lookups.lane)
        self._about = QLabel(self)
        self._about.setObjectName("commandDescription")
        self._about.setWordWrap(True)
        self._about.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._form = form = CommandForm(self)
        self._form.sig_validity_changed.connect(lambda _valid: self._update_buttons())
        self._picker.sig_chosen.connect(
            lambda chosen: form.set_field_value("aggregate_id", chosen))
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._form)
        self._build_actions()
        self._layout(scroll)

    def _build_actions(self) -> None:
        """Preview, Dispatch, the status line and the result."""
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
        self._result.setWordWrapMode(QTextOption.WrapMode.WordWrap)  # never mid-word
        self._result.anchorClicked.connect(self._on_link)
        self._result.setPlaceholderText("Results of Preview and Dispatch appear here.")

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
        column.addWidget(self._show_all, 0, Qt.AlignmentFlag.AlignRight)
        column.addWidget(self._about)
        column.addWidget(self._picker)
        column.addWidget(scroll, 1)
        column.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(upper)
        splitter.addWidget(self._result)
        splitter.setStretchFactor(0, 1)  # the form and the outcome share the height
        splitter.setStretchFactor(1, 1)
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
        self._lookups.reset()
        self._set_busy(False)
        self._result.clear()
        self._status.clear()
        self._picker.set_selected(None, None)
        self._refill(None)

    def _refill(self, keep: str | None) -> None:
        self._combo.blockSignals(True)
        self._combo.clear()
        if self._app is not None:
            self._fill_combo(self._app)
        index = self._combo.findData(keep) if keep is not None else -1
        self._combo.setCurrentIndex(max(index, 0) if self._combo.count() else -1)
        self._combo.blockSignals(False)
        self._on_command_chosen()

    def set_read_only(self, read_only: bool) -> None:
        """Read-only stores can preview commands but not dispatch them."""
        self._read_only = read_only
        self._update_buttons()

    def select_command(self, name: str) -> None:
        """Choose `name` (an internal command turns "Show all commands" on)."""
        if self._combo.findData(name) < 0 and self._app is not None and (
                name in self._app.domain.command_types):
            self._show_all.setChecked(True)
        index = self._combo.findData(name)
        if index >= 0:
            self._combo.setCurrentIndex(index)

    def set_aggregate_id(self, aggregate_id: str, aggregate_type: str | None = None) -> None:
        """The stream selected elsewhere: offered for any command of its aggregate type, and
        filled in unless it is a stream of another type. Without `aggregate_type` the
        stream is read off the UI thread; the form keeps its value until it is known."""
        self._lookups.reset()  # an older lookup's answer is stale now
        app = self._app
        if aggregate_type is not None or app is None:
            self._offer(aggregate_id, aggregate_type)
            return
        store = app.store

        def found(info: StreamInfo | None) -> None:
            self._offer(aggregate_id, None if info is None else info.aggregate_type)
        self._lookups.submit(lambda: store.stream(aggregate_id), found,
                             lambda _message, _details: found(None))

    def lookup_pending(self) -> bool:
        """A stream chosen elsewhere is being read (its type decides where it goes)."""
        return self._lookups.busy()

    def _offer(self, aggregate_id: str, kind: str | None) -> None:
        self._picker.set_selected(aggregate_id, kind)
        if kind is None or self._picker.selected_fits():
            self._form.set_field_value("aggregate_id", aggregate_id)

    @property
    def form(self) -> CommandForm:
        return self._form

    def is_busy(self) -> bool:
        return self._busy

    def command_names(self) -> list[str]:
        """The commands listed now, in order."""
        return [data for i in range(self._combo.count())
                if isinstance(data := self._combo.itemData(i), str)]

    # -- commands -----------------------------------------------------------------------
    def _fill_combo(self, app: Application) -> None:
        domain = app.domain
        public = [name for name in domain.public_command_names if name in domain.command_types]
        internal = [name for name in domain.command_types if name not in public]
        for name in public:
            self._add_command(name, command_doc(domain, name))
        self._show_all.setVisible(bool(internal))
        if internal and self._show_all.isChecked():
            self._combo.insertSeparator(self._combo.count())
            for name in internal:
                self._add_command(name, "Internal: normally dispatched by a process manager."
                                  f"\n{command_doc(domain, name)}".strip())

    def _add_command(self, name: str, tip: str) -> None:
        self._combo.addItem(name, name)
        self._combo.setItemData(self._combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

    def _on_show_all(self, _checked: bool) -> None:
        self._refill(self._combo.currentData())

    def _on_command_chosen(self, _index: int = -1) -> None:
        """A command type starts from its own defaults: nothing carries over."""
        name = self._combo.currentData()
        app = self._app
        self._form.set_command(app.domain if app else None, name)
        ctype = app.domain.command_types.get(name) if app is not None and name else None
        self._picker.set_target(app, app.domain.aggregate_for(ctype).name
                                if app is not None and ctype is not None else None)
        about = command_doc(app.domain, name) if app is not None and name else ""
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
        self._run(lambda: dispatch_with_cascade(app, command), self._show_dispatched,
                  "Recording…")

    def _run(self, call: Callable[[], Any], done: Callable[[Any], None], message: str) -> None:
        """`call` on a worker; its answer is dropped if another store was opened since."""
        generation = self._generation

        def finished(result: object) -> None:
            if generation == self._generation:
                self._set_busy(False)
                done(result)

        def errored(message: str, _details: str) -> None:
            if generation == self._generation:
                self._failed(worker, message)

        self._set_busy(True, message)
        worker = run_operation(lambda: call_operation(call), done=finished, failed=errored)

    def _failed(self, worker: OperationWorker[Any], message: str) -> None:
        self._set_busy(False, "Failed")
        self._show_html(failed_html(message, self._red()))
        if worker.exception is not None:
            dialogs.show_exception(self, "The command failed", worker.exception)

    def _show_dispatched(self, outcome: DispatchOutcome) -> None:
        shown = None if self._app is None else dispatched_view(self._app.domain, outcome,
                                                               self._red())
        if shown is not None:
            self._status.setText(shown[0])
            self._show_html(shown[1])
        if isinstance(outcome.result, Accepted):
            self.sig_dispatched.emit(outcome.all_events)

    def _show_preview(self, preview: Preview) -> None:
        if self._app is not None:
            status, body = preview_view(self._app.domain, preview, self._red())
            self._status.setText(status)
            self._show_html(body)

    def _on_link(self, url: QUrl) -> None:
        kind, _, target = url.toString().partition(":")
        if kind == "event" and target:
            self.sig_event_requested.emit(target)

    def _red(self) -> str:
        return error_color(self.palette()).name()

    def _show_html(self, body: str) -> None:
        self._result.setHtml(body)

