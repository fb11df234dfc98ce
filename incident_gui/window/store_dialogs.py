"""The window's small dialogs: choosing a store file, the recent-stores menu, About."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from incident_core.store.open import sqlite_file
from incident_gui import __version__
from incident_gui.presentation import file_dialogs
from incident_gui.session.settings import Settings

__all__ = [
    "ask_new_store",
    "ask_store",
    "dropped_file",
    "fill_recent_menu",
    "for_the_window",
    "show_about",
    "store_folder",
]

STORE_FILTER = "Incident stores (*.sqlite3 *.sqlite *.db);;All files (*)"


def store_folder(target: str | None) -> str:
    """The folder of the open store's file ('' for URLs, memory: or nothing open): file
    dialogs start there, not in the working directory."""
    file = sqlite_file(target) if target else None
    if file is None:
        return ""
    folder = Path(file).resolve().parent
    return str(folder) if folder.is_dir() else ""


def ask_store(parent: QWidget, *, read_only: bool, folder: str = "") -> str | None:
    caption = "Open a store read-only" if read_only else "Open a store"
    path, _ = file_dialogs.get_open_file_name(parent, caption, folder, STORE_FILTER)
    return path or None


def ask_new_store(parent: QWidget, folder: str = "") -> str | None:
    start = str(Path(folder) / "store.sqlite3") if folder else "store.sqlite3"
    path, _ = file_dialogs.get_save_file_name(parent, "New store", start, STORE_FILTER)
    return path or None


_CLI_ADVICE = re.compile(r"\s*(\(run `incident [^`]*`[^)]*\)|; run `incident [^`]*`.*$)")


def for_the_window(message: str) -> str:
    """A store error in the window's words: command-line advice becomes the menu's."""
    if not _CLI_ADVICE.search(message):
        return message
    return _CLI_ADVICE.sub("", message) + ". File ▸ New store… creates one."


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



def dropped_file(event: QDragEnterEvent | QDropEvent) -> str | None:
    """The local file dragged or dropped (the event is then accepted), else None."""
    urls = event.mimeData().urls()
    if not urls or not urls[0].isLocalFile():
        return None
    event.acceptProposedAction()
    return urls[0].toLocalFile()
