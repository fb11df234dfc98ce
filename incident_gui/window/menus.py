"""The window's actions, menus and toolbar (shortcuts live here, in one place)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QToolBar, QToolButton

from incident_gui.window.help import show_documentation, show_shortcuts

if TYPE_CHECKING:
    from incident_gui.window.services import WindowServices

__all__ = ["WindowActions", "build_actions"]


@dataclass
class WindowActions:
    new: QAction
    open: QAction
    open_read_only: QAction
    open_demo: QAction
    close_store: QAction
    quit: QAction
    refresh: QAction
    filter: QAction
    jump_to_end: QAction
    live: QAction
    rebuild: QAction
    about: QAction
    shortcuts: QAction
    docs: QAction
    recent_menu: QMenu
    live_button: QToolButton


def _action(window: WindowServices, text: str,
            shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
            name: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setObjectName(name)
    window.addAction(action)  # shortcuts work wherever the focus is
    return action


def build_actions(window: WindowServices) -> WindowActions:
    """Create every action, connect it to the window, and fill the menu bar and toolbar."""
    style = window.style()
    acts = WindowActions(
        new=_action(window, "&New store…", QKeySequence.StandardKey.New, "actionNew"),
        open=_action(window, "&Open…", QKeySequence.StandardKey.Open, "actionOpen"),
        open_read_only=_action(window, "Open &read-only…", "Ctrl+Shift+O",
                               "actionOpenReadOnly"),
        open_demo=_action(window, "Open the &demo store", None, "actionOpenDemo"),
        close_store=_action(window, "&Close store", QKeySequence.StandardKey.Close,
                            "actionCloseStore"),
        quit=_action(window, "&Quit", QKeySequence.StandardKey.Quit, "actionQuit"),
        refresh=_action(window, "&Refresh", QKeySequence.StandardKey.Refresh, "actionRefresh"),
        filter=_action(window, "&Filter", QKeySequence.StandardKey.Find, "actionFilter"),
        jump_to_end=_action(window, "⤓ &Newest event", "Ctrl+End", "actionJumpToEnd"),
        live=_action(window, "&Live updates", None, "actionLive"),
        rebuild=_action(window, "Re&build all projections", "Ctrl+R", "actionRebuild"),
        about=_action(window, "&About Incident inspector", None, "actionAbout"),
        shortcuts=_action(window, "&Keyboard shortcuts", "F1", "actionShortcuts"),
        docs=_action(window, "&Documentation (README)", None, "actionDocs"),
        recent_menu=QMenu("Open &recent", window),
        live_button=QToolButton(window),
    )
    acts.open.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton))
    acts.refresh.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
    acts.live.setCheckable(True)
    acts.live.setChecked(True)
    acts.live.setToolTip("Show events recorded by other processes as they happen")
    acts.recent_menu.setObjectName("recentMenu")
    _connect(window, acts)
    _fill_menus(window, acts)
    _fill_toolbar(window, acts)
    return acts


def _connect(window: WindowServices, acts: WindowActions) -> None:
    acts.new.triggered.connect(window.new_store_dialog)
    acts.open.triggered.connect(lambda: window.open_dialog(read_only=False))
    acts.open_read_only.triggered.connect(lambda: window.open_dialog(read_only=True))
    acts.open_demo.triggered.connect(window.open_demo)
    acts.close_store.triggered.connect(window.close_store)
    acts.quit.triggered.connect(window.close)
    acts.refresh.triggered.connect(window.refresh)
    acts.filter.triggered.connect(window.focus_filter)
    acts.jump_to_end.triggered.connect(window.global_log_panel.jump_to_end)
    acts.live.toggled.connect(window.set_live)
    acts.rebuild.triggered.connect(window.rebuild_projections)
    acts.about.triggered.connect(window.show_about)
    acts.shortcuts.triggered.connect(lambda: show_shortcuts(window))
    acts.docs.triggered.connect(lambda: show_documentation(window))
    acts.recent_menu.aboutToShow.connect(window.fill_recent_menu)


def _fill_menus(window: WindowServices, acts: WindowActions) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for action in (acts.new, acts.open, acts.open_read_only):
        file_menu.addAction(action)
    file_menu.addMenu(acts.recent_menu)
    file_menu.addAction(acts.open_demo)
    file_menu.addSeparator()
    file_menu.addAction(acts.close_store)
    file_menu.addAction(acts.quit)
    view_menu = bar.addMenu("&View")
    for action in (acts.refresh, acts.filter, acts.jump_to_end, acts.live):
        view_menu.addAction(action)
    store_menu = bar.addMenu("&Store")
    store_menu.addAction(acts.rebuild)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(acts.shortcuts)
    help_menu.addAction(acts.docs)
    help_menu.addSeparator()
    help_menu.addAction(acts.about)


def _fill_toolbar(window: WindowServices, acts: WindowActions) -> None:
    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.addAction(acts.open)
    toolbar.addAction(acts.refresh)
    toolbar.addAction(acts.jump_to_end)
    toolbar.addSeparator()
    acts.live_button.setObjectName("liveToggle")
    acts.live_button.setDefaultAction(acts.live)
    acts.live_button.setToolButtonStyle(toolbar.toolButtonStyle())
    toolbar.addWidget(acts.live_button)
    window.addToolBar(toolbar)
