"""How the main window arranges its panels, and how that arrangement persists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from incident_gui.presentation.naming import named
from incident_gui.session.settings import Settings

if TYPE_CHECKING:
    from incident_gui.window.services import Panels

__all__ = ["SPLITTERS", "build_layout", "fit_to_screen", "restore_geometry", "restore_splitters",
           "save_layout"]

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


def build_layout(w: Panels) -> QTabWidget:
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
    # On a small screen (1366x768 at scale factor 2 is 683x384 logical pixels) the panels'
    # minimum sizes add up to more than the screen: the window still fits, its content scrolls.
    scroll = named(QScrollArea(), "centralScroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(main)
    w.setCentralWidget(scroll)
    return tabs


def restore_geometry(window: QMainWindow, settings: Settings) -> None:
    """The window's size and place from the last run (or the default size), fitted to the
    screen it opens on: a geometry saved on a bigger screen, or at a smaller scale factor,
    never leaves the status bar or the right pane off-screen."""
    geometry = settings.state("geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(window.sizeHint())
    fit_to_screen(window)


def available_area(window: QWidget) -> QRect:
    """The part of the window's screen not taken by panels and docks (logical pixels)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1024, 768)


def fit_to_screen(window: QWidget) -> None:
    """Shrink the window into its screen's available area (frame included) and move it
    so that all of it is visible. A maximized or full-screen window is left alone."""
    if window.isMaximized() or window.isFullScreen():
        return
    area = available_area(window)
    frame = window.frameGeometry()
    extra_w = max(frame.width() - window.width(), 0)
    extra_h = max(frame.height() - window.height(), 0)
    width = max(min(window.width(), area.width() - extra_w), 1)
    height = max(min(window.height(), area.height() - extra_h), 1)
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    outer_w, outer_h = window.width() + extra_w, window.height() + extra_h
    x = min(max(frame.x(), area.left()), area.left() + area.width() - outer_w)
    y = min(max(frame.y(), area.top()), area.top() + area.height() - outer_h)
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)


def restore_splitters(window: QMainWindow, settings: Settings) -> None:
    """Splitter positions from the last run: call once the window has its final size
    (when first shown), or the splitters squeeze the restored sizes while laying out."""
    _settle_central(window)
    for name in SPLITTERS:
        splitter = window.findChild(QSplitter, name)
        state = settings.state(name)
        if splitter is not None and state is not None:
            splitter.restoreState(state)


def _settle_central(window: QMainWindow) -> None:
    """Give the scrolled content its final size now (the scroll area would on its next
    resize event), so that restored splitter positions are not squeezed afterwards."""
    layout = window.layout()
    if layout is not None:
        layout.activate()
    scroll = window.findChild(QScrollArea, "centralScroll")  # wrapped by the past banner
    content = scroll.widget() if scroll is not None else None
    if scroll is not None and content is not None:
        content.resize(scroll.viewport().size().expandedTo(content.minimumSizeHint()))


def save_layout(window: QMainWindow, settings: Settings) -> None:
    settings.set_state("geometry", window.saveGeometry())
    for name in SPLITTERS:
        splitter = window.findChild(QSplitter, name)
        if splitter is not None:
            settings.set_state(name, splitter.saveState())
    settings.sync()
