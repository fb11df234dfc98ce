"""Help ▸ Keyboard shortcuts (read from the window's own actions, so it is never out of date)
and Help ▸ Documentation (the README, rendered in a window: the source checkout's copy, or
the one installed with the package — no network needed)."""

from __future__ import annotations

import html
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

__all__ = ["PANEL_SHORTCUTS", "documentation_text", "shortcut_rows", "show_documentation",
           "show_shortcuts"]

_README = Path(__file__).resolve().parents[1] / "README.md"
# Keys that belong to a panel (active while the focus is in it), not to a window action.
PANEL_SHORTCUTS = (
    ("Ctrl+Return", "Commands: dispatch the command"),
    ("Tab / Shift+Tab", "Move to the next / previous field or table"),
    ("End / Home", "A table: its last / first row (the log pages in the rest)"),
    ("Ctrl+C", "Event detail: copy the selected value"),
)


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what they do) for every window action with a shortcut, then the panels'."""
    rows = []
    for action in window.actions():
        if isinstance(action, QAction) and not action.shortcut().isEmpty():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
    return rows + list(PANEL_SHORTCUTS)


def _page(window: QWidget, name: str, title: str, size: tuple[int, int]) -> QTextBrowser:
    dialog = QDialog(window)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    text = QTextBrowser(dialog)
    text.setObjectName(f"{name}Text")
    text.setOpenExternalLinks(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(buttons)
    dialog.resize(*size)
    dialog.show()
    return text


def show_shortcuts(window: QWidget) -> QTextBrowser:
    """A non-modal page listing the keyboard shortcuts."""
    text = _page(window, "shortcutsDialog", "Keyboard shortcuts", (460, 420))
    rows = "".join(f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>"
                   for keys, what in shortcut_rows(window))
    text.setHtml(f"<table cellspacing='0' cellpadding='4'>{rows}</table>"
                 "<p>More in Help ▸ Documentation (the README).</p>")
    return text


def documentation_text() -> str:
    """The README as Markdown: the checkout's file, else the installed package's copy."""
    if _README.is_file():
        return _README.read_text(encoding="utf-8")
    try:
        description = metadata("incident")["Description"]
    except (PackageNotFoundError, KeyError):
        description = None
    return description or "The documentation is not installed with this copy."


def show_documentation(window: QWidget) -> QTextBrowser:
    """The README, rendered, in a non-modal window."""
    text = _page(window, "documentationDialog", "Incident — documentation", (820, 680))
    text.setMarkdown(documentation_text())
    return text
