"""Right-click menus on every table: the streams, the timeline, the global log and each
projection's rows.

Copy the cell, the row or the id (with "Copied …" in the status bar); filter the global
log by this aggregate, event type or correlation; open the stream; for a projection row,
show the events that touched its aggregate; export what the table shows (off the UI
thread, see `ExportRunner`). The window installs this once (`install_table_menus`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPoint, Qt
from PySide6.QtWidgets import QApplication, QMenu, QTableView

from incident_core import RecordedEvent
from incident_core.operations.export_view import export_log, export_projection, export_stream
from incident_core.store.open import sqlite_file
from incident_gui.tasks.export_runner import ExportRunner
from incident_gui.widgets.event_detail import RELATED_EVENT_ROLE

if TYPE_CHECKING:
    from incident_gui.window.services import WindowServices

__all__ = ["TableMenus", "install_table_menus"]

COPIED_MS = 3000


def _cell_text(index: QModelIndex) -> str:
    value = index.data(Qt.ItemDataRole.DisplayRole)
    return "" if value is None else str(value)


def _row_text(view: QTableView, row: int) -> str:
    model = view.model()
    return "\t".join(_cell_text(model.index(row, c)) for c in range(model.columnCount()))


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class TableMenus(QObject):
    """Builds and runs the context menus of the window's tables."""

    def __init__(self, window: WindowServices) -> None:
        super().__init__(window)
        self.window = window
        self.exports = ExportRunner(window, window.status, self._folder)
        self.last_menu: QMenu | None = None  # the menu on screen (tests and screenshots)
        # more entries for a projection row's menu: hook(menu, projection name, row key)
        self.projection_row_hooks: list[Callable[[QMenu, str, str], None]] = []
        panels = ((window.streams_panel.view, self._stream_menu),
                  (window.timeline_panel.view, self._timeline_menu),
                  (window.global_log_panel.view, self._log_menu))
        for view, build in panels:
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(
                lambda pos, v=view, b=build: self._popup(v, pos, b))
        window.projection_panel.sig_context_menu.connect(self._projection_menu)
        window.global_log_panel.sig_export_requested.connect(self.export_log)
        related = window.event_detail.related
        related.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        related.customContextMenuRequested.connect(self._related_menu)

    # -- plumbing ---------------------------------------------------------------------------
    def _folder(self) -> Path:
        session = self.window.session
        file = sqlite_file(session.target) if session is not None else None
        return Path(file).resolve().parent if file else Path.cwd()

    def _popup(self, view: QTableView, pos: QPoint, build: Any) -> None:
        index = view.indexAt(pos)
        if not index.isValid() or self.window.session is None:
            return
        menu = QMenu(view)
        menu.setObjectName("tableMenu")
        self._copy_entries(menu, view, index)
        build(menu, view, index)
        self._show(menu, view, pos)

    def _show(self, menu: QMenu, view: QTableView, pos: QPoint) -> None:
        self.last_menu = menu
        menu.popup(view.viewport().mapToGlobal(pos))

    def copy(self, text: str, what: str) -> None:
        QApplication.clipboard().setText(text)
        self.window.status.showMessage(f"Copied {what}", COPIED_MS)

    def _copy_entries(self, menu: QMenu, view: QTableView, index: QModelIndex,
                      ident: tuple[str, str] | None = None) -> None:
        cell = _cell_text(index)
        menu.addAction("Copy cell", lambda: self.copy(cell, f"“{_short(cell)}”"))
        row = _row_text(view, index.row())
        menu.addAction("Copy row", lambda: self.copy(row, "the row"))
        if ident is not None:
            label, value = ident
            menu.addAction(f"Copy {label}", lambda: self.copy(value, f"{label} {value}"))

    # -- filters and navigation ------------------------------------------------------------
    def filter_log(self, *, aggregate_id: str | None = None, event_type: str | None = None,
                   correlation_id: str | None = None) -> None:
        """Show the global log filtered (the one filter asked for, the others cleared)."""
        filters = self.window.global_log_panel.filters
        filters.blockSignals(True)
        filters.clear()
        filters.blockSignals(False)
        if aggregate_id is not None:
            filters.set_aggregate(aggregate_id)
        elif event_type is not None:
            filters.set_event_type(event_type)
        elif correlation_id is not None:
            filters.set_correlation(correlation_id)
        self.window.global_log_panel.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _event_entries(self, menu: QMenu, event: RecordedEvent) -> None:
        menu.addAction("Copy event id", lambda: self.copy(event.event_id,
                                                          f"event id {event.event_id}"))
        menu.addAction("Copy as JSON", lambda: self.copy(
            json.dumps(event.to_json(), indent=2), "the event as JSON"))
        menu.addSeparator()
        aggregate, kind = event.aggregate_id, event.event_type
        menu.addAction(f"Filter the log by aggregate {_short(aggregate)}",
                       lambda: self.filter_log(aggregate_id=aggregate))
        menu.addAction(f"Filter the log by type {kind}", lambda: self.filter_log(event_type=kind))
        correlation = event.metadata.get("correlation_id")
        if isinstance(correlation, str) and correlation:
            menu.addAction("Filter the log by this correlation",
                           lambda: self.filter_log(correlation_id=correlation))
        menu.addAction(f"Open the stream {_short(aggregate)}",
                       lambda: self.window.show_event(event))

    # -- the menus ---------------------------------------------------------------------------
    def _stream_menu(self, menu: QMenu, _view: QTableView, index: QModelIndex) -> None:
        info = self.window.streams_panel.model.info_at(index.row())
        if info is None:
            return
        aggregate = info.aggregate_id
        menu.addAction("Copy aggregate id", lambda: self.copy(aggregate, f"aggregate id "
                                                                          f"{aggregate}"))
        menu.addSeparator()
        menu.addAction("Open the stream", lambda: self.window.show_aggregate(aggregate))
        menu.addAction("Filter the log by this aggregate",
                       lambda: self.filter_log(aggregate_id=aggregate))
        menu.addSeparator()
        menu.addAction("Export the stream as NDJSON…", lambda: self.export_stream(aggregate))

    def _timeline_menu(self, menu: QMenu, _view: QTableView, index: QModelIndex) -> None:
        event = self.window.timeline_panel.model.event_at(index.row())
        if event is None:
            return
        self._event_entries(menu, event)
        menu.addSeparator()
        menu.addAction("Export the stream as NDJSON…",
                       lambda: self.export_stream(event.aggregate_id))

    def _log_menu(self, menu: QMenu, _view: QTableView, index: QModelIndex) -> None:
        event = self.window.global_log_panel.model.event_at(index.row())
        if event is not None:
            self._event_entries(menu, event)
        menu.addSeparator()
        menu.addAction("Export the log as shown to NDJSON…", lambda: self.export_log("ndjson"))
        menu.addAction("Export the log as shown to CSV…", lambda: self.export_log("csv"))

    def _projection_menu(self, tab: Any, pos: QPoint) -> None:
        view: QTableView = tab.view
        index = view.indexAt(pos)
        if not index.isValid():
            return
        model = tab.model
        row = model.row(index.row())
        key = model.row_key(index.row())
        menu = QMenu(view)
        menu.setObjectName("tableMenu")
        self._copy_entries(menu, view, index, ("key", key))
        aggregate = str(row.get("aggregate_id", key))
        menu.addSeparator()
        menu.addAction(f"Show the events of {_short(aggregate)}",
                       lambda: self.filter_log(aggregate_id=aggregate))
        menu.addAction(f"Open the stream {_short(aggregate)}",
                       lambda: self.window.show_aggregate(aggregate))
        for extend in self.projection_row_hooks:  # e.g. History (incident_gui.window.lineage_views)
            extend(menu, tab.name, key)
        menu.addSeparator()
        menu.addAction("Export the rows to CSV…", lambda: self.export_projection(tab))
        self._show(menu, view, pos)

    def _related_menu(self, pos: QPoint) -> None:
        tree = self.window.event_detail.related
        item = tree.itemAt(pos)
        # the event as the detail read it (off the UI thread): nothing is read again here
        event = None if item is None else item.data(0, RELATED_EVENT_ROLE)
        if item is None or not isinstance(event, RecordedEvent):
            return
        menu = QMenu(tree)
        menu.setObjectName("tableMenu")
        column = max(tree.columnAt(pos.x()), 0)
        cell = item.text(column)
        menu.addAction("Copy cell", lambda: self.copy(cell, f"“{_short(cell)}”"))
        row = "\t".join(item.text(c) for c in range(tree.columnCount()))
        menu.addAction("Copy row", lambda: self.copy(row, "the row"))
        self._event_entries(menu, event)
        self.last_menu = menu
        menu.popup(tree.viewport().mapToGlobal(pos))

    # -- exports ----------------------------------------------------------------------------
    def export_log(self, fmt: str, path: Path | None = None) -> bool:
        """The global log under its filter and order, to NDJSON or CSV."""
        session = self.window.session
        if session is None:
            return False
        target = path or self.exports.ask_path("Export the log", "events", fmt)
        if target is None:
            return False
        model, store = self.window.global_log_panel.model, session.app.store
        flt, sort = model.event_filter, model.sort_key
        return self.exports.start(target, "events", lambda: export_log(
            store, target, fmt="csv" if fmt == "csv" else "ndjson", filter=flt, sort=sort))

    def export_stream(self, aggregate_id: str, path: Path | None = None) -> bool:
        session = self.window.session
        if session is None:
            return False
        target = path or self.exports.ask_path(f"Export {aggregate_id}", aggregate_id,
                                               "ndjson")
        if target is None:
            return False
        store = session.app.store
        return self.exports.start(target, "events",
                                  lambda: export_stream(store, aggregate_id, target))

    def export_projection(self, tab: Any, path: Path | None = None) -> bool:
        spec, sort, store = tab.model.spec, tab.model.sort_key, tab.model.store
        target = path or self.exports.ask_path(f"Export {spec.name}", spec.name, "csv")
        if target is None:
            return False
        return self.exports.start(target, "rows",
                                  lambda: export_projection(store, spec, target, sort=sort))


def install_table_menus(window: WindowServices) -> TableMenus:
    return TableMenus(window)
