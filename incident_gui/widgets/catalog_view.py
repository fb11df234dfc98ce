"""The event catalogue: every event type of the domain and the store, its fields, schema
versions stored, upcasters and decoding failures; *Try* decodes a sample (writes nothing)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from incident_core.engine.application import Application
from incident_core.operations.catalog import Catalog, EventTypeEntry, TryResult, catalog, try_decode
from incident_gui.widgets.tt_common import Runner, fill_rows, make_table

__all__ = ["CatalogView"]

COLUMNS = ("event type", "aggregate", "current version", "stored", "versions in store",
           "upcasters", "decode failures")


def _line(entry: EventTypeEntry) -> tuple[object, ...]:
    return (entry.name, entry.aggregate or "(not in the domain)", entry.current_version,
            entry.stored, " ".join(f"v{v}: {n}" for v, n in sorted(entry.versions.items())),
            " → ".join([f"v{u['from_version']}" for u in entry.upcasters]
                       + ([f"v{entry.current_version}"] if entry.upcasters else [])),
            f"{len(entry.failures)} of {entry.checked} checked")


def describe(entry: EventTypeEntry) -> str:
    parts = [f"{entry.name} (aggregate {entry.aggregate or '—'}, current schema version "
             f"{entry.current_version or '—'})", "", "Fields:"]
    parts += [f"  {f['name']}: {f['type']}{'' if f['required'] else ' (optional)'}"
              for f in entry.fields] or ["  (unknown: not in the domain)"]
    parts += ["", "Upcasters:"] + ([f"  v{u['from_version']} → v{u['to_version']}: "
                                    f"{u['function']}" for u in entry.upcasters] or ["  none"])
    parts += ["", "Events that fail to decode:"] + (
        [f"  #{f.position} (v{f.schema_version}): {f.error}" for f in entry.failures]
        or ["  none found"])
    return "\n".join(parts)


class CatalogView(QWidget):
    sig_loaded = Signal(object)  # Catalog
    sig_tried = Signal(object)  # TryResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("catalogView")
        self._app: Application | None = None
        self.catalog: Catalog | None = None
        self._runner = Runner(lambda message, _d: self.info.setText(f"Failed: {message}"))
        self.reload_button = QPushButton("Reload")
        self.reload_button.setObjectName("catalogReload")
        self.try_button = QPushButton("Try decoding a sample")
        self.try_button.setObjectName("catalogTry")
        self.try_button.setToolTip("Run the current upcasters and model over stored events "
                                   "of the selected type (writes nothing)")
        self.reload_button.clicked.connect(self.reload)
        self.try_button.clicked.connect(self.try_selected)
        self.info = QLabel("")
        self.info.setObjectName("catalogInfo")
        controls = QHBoxLayout()
        for widget in (self.reload_button, self.try_button, self.info):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.table = make_table("catalogTable")
        self.table.itemSelectionChanged.connect(self._selected)
        self.details = QPlainTextEdit()
        self.details.setObjectName("catalogDetails")
        self.details.setReadOnly(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([500, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(split, 1)

    def set_application(self, app: Application | None) -> None:
        self._app, self.catalog = app, None
        self.table.setRowCount(0)
        self.details.clear()
        self.setEnabled(app is not None)

    def reload(self) -> None:
        app = self._app
        if app is not None:
            self.info.setText("Reading the catalogue…")
            self._runner.call(lambda: catalog(app), self._loaded)

    def _loaded(self, result: object) -> None:
        assert isinstance(result, Catalog)
        self.catalog = result
        fill_rows(self.table, COLUMNS, [_line(e) for e in result.entries])
        failing = sum(len(e.failures) for e in result.entries)
        self.info.setText(f"{len(result.entries)} event types; {failing} failing events")
        self.sig_loaded.emit(result)

    def selected(self) -> EventTypeEntry | None:
        rows = self.table.selectionModel().selectedRows()
        if self.catalog is None or not rows:
            return None
        return self.catalog.entries[rows[0].row()]

    def _selected(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.details.setPlainText(describe(entry))

    def try_selected(self) -> None:
        app, entry = self._app, self.selected()
        if app is None or entry is None:
            self.info.setText("Select an event type to try")
            return
        name = entry.name
        self.info.setText(f"Trying {name}…")
        self._runner.call(lambda: try_decode(app, name), self._tried)

    def _tried(self, result: object) -> None:
        assert isinstance(result, TryResult)
        if result.first_failure is None:
            head = f"Try {result.event_type}: all {result.checked} sampled events decode."
        else:
            failure = result.first_failure
            head = (f"Try {result.event_type}: event #{failure.position} "
                    f"(v{failure.schema_version}) fails: {failure.error}")
        self.info.setText(head.split(":")[0] + (": ok" if result.ok else ": FAILS"))
        self.details.setPlainText(head + "\n\n" + json.dumps(result.decoded, indent=2,
                                                            default=str))
        self.sig_tried.emit(result)
