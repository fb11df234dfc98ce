"""How the main window arranges its panels, and how that arrangement persists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from incident_gui.settings import Settings
from incident_gui.widgets.naming import named

if TYPE_CHECKING:
    from incident_gui.main_window import MainWindow

__all__ = ["SPLITTERS", "build_layout", "restore_geometry", "restore_splitters", "save_layout"]

SPLITTERS = ("mainSplitter", "workSplitter", "browseSplitter", "inspectSplitter")


def _stack(top: QWidget, rest: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(top, 0)
    layout.addWidget(rest, 1)
    return box


def _splitter(name: str, orientation: Qt.Orientation, widgets: list[QWidget],
              sizes: list[int]) -> QSplitter:
    splitter = named(QSplitter(orientation), name)
    for widget in widgets:
        splitter.addWidget(widget)
    splitter.setSizes(sizes)
    return splitter


def build_layout(w: MainWindow) -> QTabWidget:
    """Streams and timeline side by side over the global log; the event and its state,
    commands and projections in tabs on the right, full height. Returns the tabs."""
    horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    browse = _splitter("browseSplitter", horizontal,
                       [w.streams_panel, _stack(w.aggregate_activity, w.timeline_panel)],
                       [360, 600])
    browse.setStretchFactor(1, 1)
    work = _splitter("workSplitter", vertical,
                     [browse, _stack(w.store_activity, w.global_log_panel)], [430, 430])
    inspect = _splitter("inspectSplitter", vertical, [w.event_detail, w.state_view],
                        [580, 260])
    tabs = named(QTabWidget(), "sideTabs")
    tabs.addTab(inspect, "Event && state")
    tabs.addTab(w.command_panel, "Commands")
    tabs.addTab(w.projection_panel, "Projections")
    main = _splitter("mainSplitter", horizontal, [work, tabs], [960, 480])
    main.setStretchFactor(0, 1)
    w.setCentralWidget(main)
    return tabs


def restore_geometry(window: QMainWindow, settings: Settings) -> None:
    """The window's size and place from the last run (or the default size)."""
    geometry = settings.state("geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(window.sizeHint())


def restore_splitters(window: QMainWindow, settings: Settings) -> None:
    """Splitter positions from the last run: call once the window has its final size
    (when first shown), or the splitters squeeze the restored sizes while laying out."""
    for name in SPLITTERS:
        splitter = window.findChild(QSplitter, name)
        state = settings.state(name)
        if splitter is not None and state is not None:
            splitter.restoreState(state)


def save_layout(window: QMainWindow, settings: Settings) -> None:
    settings.set_state("geometry", window.saveGeometry())
    for name in SPLITTERS:
        splitter = window.findChild(QSplitter, name)
        if splitter is not None:
            settings.set_state(name, splitter.saveState())
    settings.sync()
