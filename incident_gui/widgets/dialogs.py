"""Error dialogs and the last-resort exception hook: the app never dies with a traceback."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from incident_core import DomainCodeError, IncidentError

__all__ = ["install_excepthook", "show_error", "show_exception", "show_failure"]


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """A modal error box; `details` (e.g. a traceback) sits behind 'Show Details…'."""
    box = QMessageBox(parent)
    box.setObjectName("errorDialog")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)  # messages quote store text
    box.setText(message)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()


def show_exception(parent: QWidget | None, title: str, exc: BaseException) -> None:
    """Expected errors (IncidentError) as one clear line; domain-code errors and anything
    unexpected with the traceback as details."""
    if isinstance(exc, DomainCodeError):
        original = exc.original
        details = "".join(traceback.format_exception(type(original), original,
                                                     original.__traceback__))
        show_failure(parent, title, str(exc), details, "domain")
    elif isinstance(exc, IncidentError):
        show_failure(parent, title, str(exc), "", "incident")
    else:
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        show_failure(parent, title, f"Unexpected error: {type(exc).__name__}: {exc}", details,
                     "unexpected")


def show_failure(parent: QWidget | None, title: str, message: str, details: str,
                 kind: str) -> None:
    """An error told as text (from another process): `kind` "domain" (user code raised:
    nothing was written), "incident" (one line, no details) or "unexpected"."""
    if kind == "domain":
        show_error(parent, title, f"{message}\n\nNothing was written.", details)
    else:
        show_error(parent, title, message, "" if kind == "incident" else details)


class _Hook:
    """Prints every uncaught exception and shows it in a dialog — one dialog at a time, so
    an error repeated while painting cannot stack up dialogs behind the first."""

    def __init__(self) -> None:
        self.showing = False

    def __call__(self, kind: type[BaseException], value: BaseException,
                 tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        traceback.print_exception(kind, value, tb)
        if QApplication.instance() is None or self.showing:
            return
        self.showing = True
        try:
            show_exception(QApplication.activeWindow(), "Incident inspector", value)
        finally:
            self.showing = False


def install_excepthook() -> None:
    """Show uncaught exceptions (e.g. raised in a slot) in a dialog instead of dying."""
    sys.excepthook = _Hook()
