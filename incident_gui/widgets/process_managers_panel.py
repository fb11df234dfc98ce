"""`ProcessManagersPanel`: each process manager's checkpoint and lag, its open conversations
(or, when the domain does not say what "finished" means, the last step of its recent ones)
with their age, and its parked steps with Retry / Skip."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from incident_core import Application, IncidentError
from incident_core.operations.conversations import ConversationInfo, ManagerStatus, managers_status
from incident_gui.presentation.naming import named
from incident_gui.tasks.workers import OperationWorker, call_operation

__all__ = ["CORRELATION_ROLE", "ProcessManagersPanel", "age_text"]

CORRELATION_ROLE = Qt.ItemDataRole.UserRole + 11
PARKED_ROLE = Qt.ItemDataRole.UserRole + 12


def age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


class ProcessManagersPanel(QWidget):
    """`processManagersPanel`; double-click a conversation to see its graph."""

    sig_conversation_requested = Signal(str)  # correlation id
    sig_refreshed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("processManagersPanel")
        self._app: Application | None = None
        self.statuses: list[ManagerStatus] = []
        self._worker: OperationWorker[list[ManagerStatus]] | None = None
        self._again = False
        self.info = named(QLabel(), "sagaInfo")
        self.info.setWordWrap(True)
        refresh = named(QPushButton("Refresh"), "sagaRefreshButton")
        refresh.clicked.connect(self.refresh)
        self.tree = named(QTreeWidget(), "sagaTree")
        self.tree.setHeaderLabels(["Process manager / conversation", "Aggregate", "Age",
                                   "Last step"])
        self.tree.setColumnWidth(0, 270)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.itemDoubleClicked.connect(self._on_activated)
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)

    def set_application(self, app: Application | None) -> None:
        self._app = app
        self.refresh()

    def refresh(self) -> None:
        """Read every manager's status off the UI thread (`sig_refreshed` when shown)."""
        app = self._app
        if app is None:
            self.tree.clear()
            self.statuses = []
            self.info.setText("No store open")
            return
        if self._worker is not None and self._worker.is_running():
            self._again = True  # read again once this one ends
            return
        self._again = False
        worker: OperationWorker[list[ManagerStatus]] = OperationWorker(
            lambda: call_operation(lambda: managers_status(app)))
        worker.signals.finished.connect(lambda statuses: self._show(app, statuses))
        worker.signals.errored.connect(lambda message, _details: self._failed(app, message))
        self._worker = worker
        self.info.setText("Reading the process managers…")
        worker.start()

    def _failed(self, app: Application, message: str) -> None:
        if app is self._app:
            self.info.setText(f"Cannot read the process managers: {message}")
        if self._again:
            self.refresh()

    def _show(self, app: Application, statuses: list[ManagerStatus]) -> None:
        if self._again or app is not self._app:
            self.refresh()
            return
        self.tree.clear()
        self.statuses = statuses
        if not self.statuses:
            self.info.setText("This domain has no process managers")
        else:
            self.info.setText("Double-click a conversation to see its graph")
        parking = hasattr(self._app, "parked_steps")
        for status in self.statuses:
            self._add_manager(status, parking)
        self.sig_refreshed.emit()

    def _add_manager(self, status: ManagerStatus, parking: bool) -> None:
        top = QTreeWidgetItem([f"⚙ {status.name} — checkpoint {status.checkpoint} · head "
                               f"{status.head} · lag {status.lag}"])
        self.tree.addTopLevelItem(top)
        top.setFirstColumnSpanned(True)
        caption = ("Open conversations" if status.open_only
                   else "Recent conversations (no final event types declared: last step)")
        group = QTreeWidgetItem(top, [f"{caption} ({len(status.conversations)})"])
        if status.looked_back_to:
            group.setToolTip(0, f"among the conversations since position "
                                f"{status.looked_back_to}")
        for conversation in status.conversations:
            self._add_conversation(group, conversation)
        parked_caption = (f"Parked steps ({len(status.parked)})" if parking
                          else "Parked steps: this engine does not park failed steps")
        parked = QTreeWidgetItem(top, [parked_caption])
        group.setFirstColumnSpanned(True)
        parked.setFirstColumnSpanned(True)
        for step in status.parked:
            self._add_parked(parked, step)
        top.setExpanded(True)
        group.setExpanded(True)
        parked.setExpanded(True)

    def _add_conversation(self, group: QTreeWidgetItem, info: ConversationInfo) -> None:
        item = QTreeWidgetItem(group, [info.correlation_id, info.aggregate_id,
                                       age_text(info.age_seconds),
                                       f"#{info.last_position} {info.last_event_type}"])
        item.setData(0, CORRELATION_ROLE, info.correlation_id)
        item.setToolTip(0, f"started {info.started_at}")

    def _add_parked(self, group: QTreeWidgetItem, step: Any) -> None:
        item = QTreeWidgetItem(group, [f"#{step.position} {step.event_type}",
                                       step.aggregate_id, "", step.error])
        item.setToolTip(0, f"{step.status} at {step.parked_at}, {step.attempts} attempt(s)")
        item.setData(0, PARKED_ROLE, (step.process_manager, step.position))
        if step.correlation_id:
            item.setData(0, CORRELATION_ROLE, step.correlation_id)
        item.setToolTip(3, step.traceback)
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        for text, handler in (("Retry", self.retry), ("Skip", self.skip)):
            button = named(QPushButton(text), f"parked{text}Button")
            button.clicked.connect(lambda _=False, s=step, h=handler: h(s.process_manager,
                                                                        s.position))
            row.addWidget(button)
        self.tree.setItemWidget(item, 2, buttons)

    def retry(self, process_manager: str, position: int) -> None:
        if self._app is not None:
            self._run(lambda app: app.retry_parked(process_manager, position))

    def skip(self, process_manager: str, position: int, reason: str | None = None) -> None:
        if reason is None:
            reason, ok = QInputDialog.getText(self, "Skip a parked step", "Reason:")
            if not ok or not reason.strip():
                return
        self._run(lambda app: app.skip_parked(process_manager, position, reason))

    def _run(self, action: Any) -> None:
        try:
            action(self._app)
        except IncidentError as exc:
            self.info.setText(str(exc))
            return
        self.refresh()

    def conversation_items(self) -> list[QTreeWidgetItem]:
        out: list[QTreeWidgetItem] = []
        for index in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(index)
            group = None if top is None else top.child(0)
            if group is not None:
                children = (group.child(n) for n in range(group.childCount()))
                out.extend(item for item in children if item is not None)
        return out

    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        correlation = item.data(0, CORRELATION_ROLE)
        if correlation:
            self.sig_conversation_requested.emit(str(correlation))
