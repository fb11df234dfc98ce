"""Row lineage in the inspector: "History…" in a projection row's context menu and the
event detail's "Rows it changed" both open a `RowHistoryDialog`; double-clicking a change
there jumps to its event. Installed on the main window by one call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu

from incident_gui.widgets.row_history import RowHistoryDialog

if TYPE_CHECKING:
    from incident_gui.window.services import WindowServices

__all__ = ["LineageViews", "install_lineage_views"]


class LineageViews(QObject):
    def __init__(self, window: WindowServices) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: RowHistoryDialog | None = None  # the last one opened
        window.table_menus.projection_row_hooks.append(self._extend_row_menu)
        window.event_detail.sig_row_history_requested.connect(self.show_history)

    def _extend_row_menu(self, menu: QMenu, projection: str, key: str) -> None:
        action = menu.addAction("History…", lambda: self.show_history(projection, key))
        action.setObjectName("rowHistoryAction")
        action.setToolTip("Every event that changed this row, with its values before/after")

    def show_history(self, projection: str, key: str) -> RowHistoryDialog | None:
        session = self.window.session
        if session is None:
            return None
        dialog = RowHistoryDialog(session.app, projection, key, self.window)
        dialog.sig_event_requested.connect(self.window.show_event_id)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.show()
        return dialog


def install_lineage_views(window: WindowServices) -> LineageViews:
    return LineageViews(window)
