"""The File menu's store commands: open (read-write or read-only), new, recent, drop a
file on the window, about. A base of `MainWindow`; every open goes through
`begin_open` (a worker opens the store, see `incident_gui.window.store_opener`)."""

from __future__ import annotations

from PySide6.QtGui import QDragEnterEvent, QDropEvent

from incident_gui.window.navigation import WindowNavigation
from incident_gui.window.store_dialogs import (
    ask_new_store,
    ask_store,
    dropped_file,
    fill_recent_menu,
    show_about,
    store_folder,
)

__all__ = ["StoreCommands"]


class StoreCommands(WindowNavigation):
    """Asking which store to open; the opening itself is `begin_open`'s."""

    def open_dialog(self, *, read_only: bool) -> None:
        path = ask_store(self, read_only=read_only, folder=self._store_folder())
        if path:
            self.begin_open(path, read_only=read_only)

    def new_store_dialog(self) -> None:
        path = ask_new_store(self, self._store_folder())
        if path:
            self.begin_open(path, create=True)

    def _store_folder(self) -> str:
        return store_folder(self.session.target if self.session is not None else None)

    def fill_recent_menu(self) -> None:
        fill_recent_menu(self.actions_.recent_menu, self.settings, self.begin_open)

    def show_about(self) -> None:
        show_about(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        dropped_file(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if (path := dropped_file(event)) is not None:
            self.begin_open(path)

