"""What opening a store found, told to the user: a store of another domain (a warning in
the status bar) and projections whose row model changed since their table was made (a
message offering to rebuild them from the log, by reopening the store for writing)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from incident_gui.session.store_session import Session

__all__ = ["show_notices"]


def show_notices(parent: QWidget, status: QStatusBar, session: Session,
                 rebuild: Callable[[], object]) -> QMessageBox | None:
    """Show `session`'s warnings; offer a rebuild (calls `rebuild`) for stale projections.
    Returns the (non-modal) message box, if one is shown."""
    if session.warnings:
        status.showMessage("  ·  ".join(session.warnings))
    if not session.stale:
        return None
    names = ", ".join(session.stale)
    box = QMessageBox(QMessageBox.Icon.Warning, "Projections out of date",
                      f"The row model of {names} changed since its table was made, so its "
                      "rows cannot be shown. Rebuild it from the log? (This reopens the "
                      "store for writing.)", parent=parent)
    box.setObjectName("staleProjections")
    button = box.addButton("Rebuild", QMessageBox.ButtonRole.AcceptRole)
    button.setObjectName("rebuildStale")
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    button.clicked.connect(rebuild)
    box.open()
    return box
