"""Where a command goes: the stream selected elsewhere, a new id, or an existing stream of
the command's aggregate type (a menu filled from the store when opened: the streams are
read off the UI thread, the menu says "Reading…" until they arrive)."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QMenu, QPushButton, QSizePolicy, QToolButton, QWidget

from incident_core import Application, StreamInfo
from incident_gui.tasks.query_lane import QueryLane, Requests

__all__ = ["PICK_LIMIT", "READING", "AggregateIdPicker"]

PICK_LIMIT = 50
READING = "Reading the streams…"


class AggregateIdPicker(QWidget):
    """Three ways to fill the aggregate id; `sig_chosen(str)` carries the id."""

    sig_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, lane: QueryLane | None = None
                 ) -> None:
        super().__init__(parent)
        self.setObjectName("aggregateIdPicker")
        self._reads = Requests(lane)
        self._app: Application | None = None
        self._aggregate_type: str | None = None
        self._selected: tuple[str, str] | None = None  # (aggregate id, aggregate type)
        self._use_selected = QPushButton(self)
        self._use_selected.setObjectName("useSelectedStream")
        self._use_selected.clicked.connect(self._choose_selected)
        self._new = QPushButton("New id", self)
        self._use_selected.setText("Use selected")
        self._new.setObjectName("newAggregateId")
        self._new.setToolTip("A new random id: the command starts a new aggregate")
        self._new.clicked.connect(lambda: self.sig_chosen.emit(str(uuid.uuid4())))
        self._menu = QMenu(self)
        self._menu.setObjectName("existingStreamsMenu")
        self._menu.aboutToShow.connect(self.fill_menu)
        self._existing = QToolButton(self)
        self._existing.setObjectName("pickAggregateId")
        self._existing.setText("Existing…")
        self._existing.setMenu(self._menu)
        self._existing.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self._use_selected, self._new, self._existing):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            widget.setMinimumWidth(widget.fontMetrics().horizontalAdvance("New id") + 16)
            row.addWidget(widget, 1)
        self._update()

    def set_target(self, app: Application | None, aggregate_type: str | None) -> None:
        """The open application and the aggregate type the current command addresses."""
        if (app, aggregate_type) != (self._app, self._aggregate_type):
            self._reads.reset()  # a list of other streams is coming: not for this menu
        self._app, self._aggregate_type = app, aggregate_type
        self._update()

    def set_selected(self, aggregate_id: str | None, aggregate_type: str | None) -> None:
        self._selected = (aggregate_id, aggregate_type or "") if aggregate_id else None
        self._update()

    def selected_fits(self) -> bool:
        """Whether the selected stream is of the current command's aggregate type."""
        return self._selected is not None and self._selected[1] == self._aggregate_type

    def _update(self) -> None:
        self.setVisible(self._aggregate_type is not None)
        fits = self.selected_fits()
        name = self._selected[0] if self._selected is not None else ""
        self._use_selected.setText(f"Use {_short(name)}" if fits else "Use selected")
        self._use_selected.setEnabled(fits)
        self._use_selected.setToolTip(
            f"Send to the selected stream {name}" if fits else
            f"Select a {self._aggregate_type or ''} stream to send the command to it")
        self._existing.setToolTip(f"An existing {self._aggregate_type or ''} stream")
        self._existing.setEnabled(self._app is not None)

    def _choose_selected(self) -> None:
        if self._selected is not None:
            self.sig_chosen.emit(self._selected[0])

    @property
    def menu(self) -> QMenu:
        return self._menu

    def fill_menu(self) -> None:
        """The first existing streams of the aggregate type, read off the UI thread when
        the menu opens; it says "Reading…" until they arrive."""
        self._reads.reset()
        self._menu.clear()
        app, kind = self._app, self._aggregate_type
        if app is None or kind is None:
            self._show_streams(kind, [])
            return
        self._menu.addAction(READING).setEnabled(False)
        store = app.store
        self._reads.submit(lambda: store.streams(aggregate_type=kind, limit=PICK_LIMIT + 1),
                           lambda streams: self._show_streams(kind, streams),
                           self._read_failed)

    def _read_failed(self, message: str, _details: str) -> None:
        self._menu.clear()
        self._menu.addAction(f"Cannot list streams: {message}").setEnabled(False)

    def _show_streams(self, kind: str | None, streams: list[StreamInfo]) -> None:
        self._menu.clear()
        if not streams:
            self._menu.addAction(f"No {kind} streams yet").setEnabled(False)
        for info in streams[:PICK_LIMIT]:
            action = self._menu.addAction(info.aggregate_id)
            action.triggered.connect(
                lambda _checked=False, chosen=info.aggregate_id: self.sig_chosen.emit(chosen))
        if len(streams) > PICK_LIMIT:
            self._menu.addAction(f"First {PICK_LIMIT} shown: type the id to reach others"
                                 ).setEnabled(False)


def _short(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
