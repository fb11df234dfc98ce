"""The system as of a position: every projection's rows, the streams list, and the state of
the selected stream, each read (off the UI thread) as it stood after that position."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from incident_core.engine.application import Application
from incident_core.operations.asof import RowsAsOf, rows_as_of, state_as_of, streams_at
from incident_core.ports import StreamInfo
from incident_gui.widgets.tt_common import Runner, fill_rows, make_table

__all__ = ["PastView", "PastViewData"]

STREAMS_SHOWN = 2000


@dataclass(frozen=True, slots=True)
class PastViewData:
    position: int
    when: str
    projections: dict[str, RowsAsOf]
    streams: list[StreamInfo]


def load_past(app: Application, position: int) -> PastViewData:
    """Everything the view shows as of `position` (runs on a worker thread)."""
    found = app.store.read_events(after_position=position - 1, limit=1) if position else []
    return PastViewData(position, found[0].recorded_at_text if found else "",
                        rows_as_of(app, sorted(app.domain.projections), position),
                        streams_at(app, position, limit=STREAMS_SHOWN))


class PastView(QWidget):
    sig_loaded = Signal(object)  # PastViewData
    sig_error = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pastView")
        self._app: Application | None = None
        self.data: PastViewData | None = None
        self._runner = Runner(lambda message, _details: self._failed(message))
        layout = QVBoxLayout(self)
        self.info = QLabel("Choose a position or a time above, then Go.")
        self.info.setObjectName("pastInfo")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("pastProjections")
        self.streams = make_table("pastStreams")
        self.streams.itemSelectionChanged.connect(self._stream_selected)
        self.state = QPlainTextEdit()
        self.state.setObjectName("pastState")
        self.state.setReadOnly(True)
        streams_box = QSplitter()
        streams_box.addWidget(self.streams)
        streams_box.addWidget(self.state)
        self.tabs.addTab(streams_box, "Streams && state")
        layout.addWidget(self.tabs, 1)
        self.tables: dict[str, QTableWidget] = {}

    def set_application(self, app: Application | None) -> None:
        self._app = app
        self.data = None
        while self.tabs.count() > 1:
            self.tabs.removeTab(1)
        self.tables = {}
        self.streams.setRowCount(0)
        self.state.clear()
        self.info.setText("Choose a position or a time above, then Go.")

    def show_position(self, position: int | None) -> None:
        app = self._app
        if app is None or position is None:
            self.set_application(app)
            return
        self.info.setText(f"Reading the system as of position {position}…")
        self._runner.call(lambda: load_past(app, position), self._loaded)

    def _loaded(self, result: object) -> None:
        assert isinstance(result, PastViewData) and self._app is not None
        self.data = result
        when = f" (recorded {result.when})" if result.when else ""
        self.info.setText(f"As of position {result.position}{when}: "
                          + ", ".join(f"{n} {len(r.rows)} rows" for n, r in
                                      result.projections.items()))
        for name, found in result.projections.items():
            table = self.tables.get(name)
            if table is None:
                table = self.tables[name] = make_table(f"past_{name}")
                self.tabs.addTab(table, name)
            columns = [c.name for c in self._app.projection(name).spec.columns]
            fill_rows(table, columns, [[row.get(c) for c in columns] for row in found.rows])
        fill_rows(self.streams, ("aggregate_id", "type", "version", "events", "last recorded"),
                  [(s.aggregate_id, s.aggregate_type, s.version, s.event_count,
                    s.last_recorded_at) for s in result.streams])
        self.state.clear()
        self.sig_loaded.emit(result)

    def _stream_selected(self) -> None:
        app, data = self._app, self.data
        rows = self.streams.selectionModel().selectedRows()
        if app is None or data is None or not rows:
            return
        item = self.streams.item(rows[0].row(), 0)
        if item is None:
            return
        aggregate_id, position = item.text(), data.position
        self._runner.call(lambda: state_as_of(app, aggregate_id, position), self._show_state)

    def _show_state(self, result: object) -> None:
        if result is None:
            self.state.setPlainText("(no stream yet)")
            return
        state: Any = result
        text = json.dumps({"aggregate_id": state.aggregate_id, "version": state.version,
                           "state": state.state.model_dump(mode="json")}, indent=2)
        self.state.setPlainText(text)

    def _failed(self, message: str) -> None:
        self.info.setText(f"Cannot show that moment: {message}")
        self.sig_error.emit(message)
