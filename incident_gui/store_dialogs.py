"""The window's small dialogs: choosing a store file, the recent-stores menu, About."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from incident_gui import __version__
from incident_gui.settings import Settings

__all__ = ["ask_new_store", "ask_store", "fill_recent_menu", "show_about"]

STORE_FILTER = "Incident stores (*.sqlite3 *.sqlite *.db);;All files (*)"


def ask_store(parent: QWidget, *, read_only: bool) -> str | None:
    caption = "Open a store read-only" if read_only else "Open a store"
    path, _ = QFileDialog.getOpenFileName(parent, caption, "", STORE_FILTER)
    return path or None


def ask_new_store(parent: QWidget) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, "New store", "store.sqlite3", STORE_FILTER)
    return path or None


def fill_recent_menu(menu: QMenu, settings: Settings, open_target: Callable[[str], object]) -> None:
    menu.clear()
    recent = settings.recent()
    for target in recent:
        action = menu.addAction(target)
        action.triggered.connect(lambda _checked=False, t=target: open_target(t))
    if not recent:
        menu.addAction("No recent stores").setEnabled(False)
        return
    menu.addSeparator()
    menu.addAction("Clear list").triggered.connect(settings.clear_recent)


def show_about(parent: QWidget) -> None:
    from PySide6 import __version__ as qt_version

    QMessageBox.about(
        parent, "About Incident inspector",
        f"<h3>Incident inspector {__version__}</h3>"
        "<p>See an event-sourced system: streams, timelines, the global log, state at "
        "any version, commands and projections — live.</p>"
        f"<p>PySide6 {qt_version}</p>")
