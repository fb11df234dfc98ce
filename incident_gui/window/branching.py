"""What-if branches in the inspector: Branch at the selected event (or the head), dispatch
on the branch with the usual forms, Compare it with the original, Discard it or Save it as
a store of its own. The branch is a SQLite file beside the original (in the temporary
folder for server and memory stores); the original is only ever read."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMenu

from incident_core.operations.branch import StoreDiff, branch, diff
from incident_core.store.open import STORE_FILE_SUFFIXES, held_here, open_store, sqlite_file
from incident_gui.presentation import file_dialogs
from incident_gui.presentation.naming import named
from incident_gui.tasks.workers import OperationWorker, call_operation
from incident_gui.widgets.branch_diff import BranchDiffDialog

if TYPE_CHECKING:
    from incident_gui.window.services import WindowServices

__all__ = ["Branch", "BranchController", "branch_path"]

_BADGE = ("QLabel { background: #7c3aed; color: white; border-radius: 4px; padding: 1px 6px;"
          " font-weight: bold; }")


@dataclass(frozen=True, slots=True)
class Branch:
    original: str          # the original's target
    original_read_only: bool
    at: int                # the last position copied
    path: Path             # the branch's SQLite file


def branch_path(original: str, at: int) -> Path:
    """Beside a SQLite original; in the temporary folder otherwise."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    file = sqlite_file(original)
    source = Path(file) if file else None
    if source is not None and source.exists():
        return source.with_name(f"{source.stem}.branch-{at}-{stamp}.sqlite3")
    return Path(tempfile.gettempdir()) / f"incident-branch-{at}-{stamp}.sqlite3"


def _remove(path: Path) -> bool:
    """Delete a branch's files, unless a store of this program still has them open (a close
    that failed, a comparison still reading): that store would lose what it writes."""
    if held_here(path):
        return False
    for suffix in STORE_FILE_SUFFIXES:  # a shared writer's lock and socket too
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return True


class BranchController(QObject):
    """Store menu items and the branch badge in the status bar."""

    sig_branched = Signal(object)   # Branch, once the window shows it
    sig_compared = Signal(object)   # StoreDiff
    sig_failed = Signal(str)

    def __init__(self, window: WindowServices) -> None:
        super().__init__(window)
        self.window = window
        self.current: Branch | None = None
        self.dialog: BranchDiffDialog | None = None
        self._worker: OperationWorker[object] | None = None
        self.badge = named(QLabel(), "branchBadge")
        self.badge.setStyleSheet(_BADGE)
        self.badge.hide()
        window.status.addPermanentWidget(self.badge)
        self.actions = {name: self._action(text, name) for name, text in (
            ("actionBranch", "&Branch here (what-if)"), ("actionCompare", "Com&pare with original"),
            ("actionDiscard", "&Discard branch"), ("actionSaveBranch", "Save branch &as…"))}
        self.actions["actionBranch"].triggered.connect(self.branch_here)
        self.actions["actionCompare"].triggered.connect(self.compare)
        self.actions["actionDiscard"].triggered.connect(self.discard)
        self.actions["actionSaveBranch"].triggered.connect(self._save_dialog)
        window.sig_log_ready.connect(self._on_store_opened)
        self._update()

    def _action(self, text: str, name: str) -> QAction:
        action = named(QAction(text, self.window), name)
        for menu in self.window.menuBar().findChildren(QMenu):
            if menu.title() == "&Store":
                menu.addAction(action)
        return action

    def _update(self) -> None:
        on_branch = self.current is not None
        self.actions["actionBranch"].setEnabled(self.window.session is not None)
        for name in ("actionCompare", "actionDiscard", "actionSaveBranch"):
            self.actions[name].setEnabled(on_branch)
        if self.current is None:
            self.badge.hide()
        else:
            self.badge.setText(f"WHAT-IF BRANCH at #{self.current.at}")
            self.badge.setToolTip(f"A what-if branch of {self.current.original} "
                                  f"({self.current.path}); the original is untouched")
            self.badge.show()

    def _busy(self) -> bool:
        return self._worker is not None and self._worker.is_running()

    # -- branch ---------------------------------------------------------------------------
    def branch_here(self) -> None:
        shown = self.window.event_detail.shown_event
        session = self.window.session
        if session is not None:  # the head the window knows (no read on this thread)
            self.branch_at(shown.position if shown is not None else self.window.updates.head)

    def branch_at(self, at: int) -> None:
        session = self.window.session
        if session is None or self._busy():
            return
        original = self.current.original if self.current else session.target
        read_only = self.current.original_read_only if self.current else session.read_only
        path = branch_path(session.target, at)
        app = session.app
        self.window.status.showMessage(f"Branching at #{at}…")
        worker: OperationWorker[object] = OperationWorker(
            lambda: branch(app, str(path), at=at))
        worker.signals.finished.connect(
            lambda _report: self._open_branch(Branch(original, read_only, at, path)))
        worker.signals.errored.connect(lambda message, _details: self._fail(message, path))
        self._worker = worker
        worker.start()

    def _open_branch(self, made: Branch) -> None:
        if self.window.open_target(str(made.path)):
            self.current = made
            self._update()
            self.window.status.showMessage(f"On a branch at #{made.at}: commands go to the "
                                           "branch only", 8000)
            self.sig_branched.emit(made)

    def _fail(self, message: str, path: Path | None = None) -> None:
        if path is not None:
            _remove(path)
        self.window.status.showMessage(message, 8000)
        self.sig_failed.emit(message)

    def _on_store_opened(self) -> None:
        session = self.window.session
        if self.current is not None and (session is None
                                         or Path(session.target) != self.current.path):
            self.current = None  # another store was opened: the branch file stays
        self._update()

    # -- compare, discard, save -------------------------------------------------------------
    def compare(self) -> None:
        session, made = self.window.session, self.current
        if session is None or made is None or self._busy():
            return
        domain = session.app.domain

        def run() -> StoreDiff:
            with open_store(made.original, read_only=True) as a, \
                    open_store(str(made.path), read_only=True) as b:
                return diff(a, b, domain)

        worker: OperationWorker[StoreDiff] = OperationWorker(lambda: call_operation(run))
        worker.signals.finished.connect(self._show_diff)
        worker.signals.errored.connect(lambda message, _details: self._fail(message))
        self._worker = worker  # type: ignore[assignment]
        worker.start()

    def _show_diff(self, found: StoreDiff) -> None:
        if self.dialog is None:
            self.dialog = BranchDiffDialog(self.window)
        self.dialog.show_diff(found)
        self.dialog.show()
        self.sig_compared.emit(found)

    def discard(self) -> None:
        """Close the branch, delete its file, and go back to the original."""
        made = self.current
        if made is None or self._busy():
            return
        self.current = None
        self.window.close_store_and_wait()  # its file is free then
        removed = _remove(made.path)
        self.window.open_target(made.original, read_only=made.original_read_only)
        if not removed:
            self.window.status.showMessage(f"The branch is still open here; its file stays "
                                           f"at {made.path}", 8000)
        self._update()

    def _save_dialog(self) -> None:
        path, _ = file_dialogs.get_save_file_name(self.window, "Save branch as", "",
                                                  "Incident store (*.sqlite3)")
        if path:
            self.save_as(Path(path))

    def save_as(self, path: Path) -> bool:
        """Move the branch's file to `path` and open it there (a store of its own now)."""
        made = self.current
        if made is None or self._busy() or path.exists():
            return False
        self.window.close_store_and_wait()  # its file is free then
        if held_here(made.path):  # a close that failed: moving it would lose its writes
            self.window.open_target(str(made.path))
            self.window.status.showMessage("The branch is still open here; nothing was "
                                           "moved", 8000)
            return False
        shutil.move(str(made.path), str(path))
        _remove(made.path)
        self.current = None
        ok = self.window.open_target(str(path))
        self._update()
        return ok
