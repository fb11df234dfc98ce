"""`incident-inspector`: the desktop inspector's entry point.

    incident-inspector [TARGET] [--domain MODULE:ATTR] [--domain-path DIR] [--read-only]
                       [--version] [--smoke]

With no TARGET it opens the demo bank store in the user's data folder, creating and
seeding it on first run. `create_window()` builds the window without entering the event
loop (tests, embedding); `--smoke` opens the store, waits for the first page of the global
log to render, and exits 0 — or prints the error and exits 1.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QMessageLogContext,
    QTimer,
    QtMsgType,
    qFormatLogMessage,
    qInstallMessageHandler,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMainWindow

from incident_core import IncidentError
from incident_gui import __version__
from incident_gui.presentation.formatting import plural
from incident_gui.session.settings import ORGANIZATION
from incident_gui.session.store_session import add_domain_path
from incident_gui.widgets.dialogs import install_excepthook
from incident_gui.window.main_window import ErrorReporter, MainWindow

__all__ = ["create_window", "main", "settle_memory"]

SMOKE_TIMEOUT_MS = 180_000
# The icons ship inside the package (wheel, editable checkout and bundle alike).
_ICON_PLACES = (Path(__file__).with_name("resources"),)


# Qt messages that say nothing to a user: the offscreen platform (--smoke, CI) cannot pass a
# window's minimum size on to a window manager it does not have.
_QUIET_MESSAGES = ("This plugin does not support propagateSizeHints()",)


def _qt_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if message in _QUIET_MESSAGES:
        return
    sys.stderr.write(qFormatLogMessage(mode, context, message) + "\n")


def _application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    qInstallMessageHandler(_qt_message)
    app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName("incident-inspector")
    app.setApplicationVersion(__version__)
    icon = next((place / "incident.png" for place in _ICON_PLACES
                 if (place / "incident.png").exists()), None)
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    return app


def _build(target: str | None, *, domain: str | None, read_only: bool,
           report: ErrorReporter | None = None) -> MainWindow:
    _application()
    # the open runs on a worker from the start: the window is built and shown meanwhile
    window = MainWindow(domain=domain, report=report, target=target, read_only=read_only)
    if target is None:
        window.open_demo()
    return window


def create_window(target: str | None, *, domain: str | None = None,
                  read_only: bool = False) -> QMainWindow:
    """Build the main window opening `target` (None: the demo store) on a worker: the
    store is open once the event loop has run (`window.opening` turns False)."""
    return _build(target, domain=domain, read_only=read_only)


def settle_memory() -> None:
    """Once the window is up: collect, then freeze what is alive (modules, Qt wrappers, the
    domain — it lives as long as the app). A full garbage collection stops every thread,
    the UI's included, for as long as it walks the old objects; frozen ones are not walked,
    so collections during a rebuild stay in the tens of milliseconds instead of ~100+."""
    gc.collect()
    gc.freeze()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incident-inspector",
        description="See an event-sourced system: streams, timelines, the global log, "
                    "state at any version, commands and projections, live.")
    parser.add_argument("target", nargs="?",
                        help="a store: SQLite file, SQLAlchemy URL or memory: "
                             "(default: the demo bank store)")
    parser.add_argument("--domain", metavar="MODULE:ATTR",
                        help="the domain to load, e.g. myapp.model:domain (default: the bank)")
    parser.add_argument("--domain-path", metavar="DIR", action="append", default=[],
                        help="a folder to import the domain from (repeatable)")
    parser.add_argument("--read-only", action="store_true",
                        help="open the store read-only (nothing can be written)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--smoke", action="store_true",
                        help="open, wait for the global log's first page, exit 0 (or 1)")
    return parser


def _smoke(args: argparse.Namespace) -> int:
    """Open the store, wait for the first rendered page of the global log, quit."""
    qapp = _application()
    problems: list[str] = []
    exit_code = [1]

    def report(title: str, message: str, _details: str) -> None:
        problems.append(f"{title}: {message}")

    window = _build(args.target, domain=args.domain, read_only=args.read_only, report=report)

    def finish(code: int) -> None:
        try:
            if code == 0:
                window.grab()  # render once, for real, offscreen or not
                log = window.global_log_panel.model
                print(f"smoke ok: {window.status.store_label.text()} · "
                      f"{plural(log.rowCount(), 'event')} in the global log")
            else:
                print("\n".join(problems) or "smoke failed: the global log never rendered "
                      f"within {SMOKE_TIMEOUT_MS // 1000} s", file=sys.stderr)
            exit_code[0] = code
            window.close()
        finally:
            qapp.exit(exit_code[0])

    if problems:
        QTimer.singleShot(0, lambda: finish(1))
    else:
        window.sig_log_ready.connect(lambda: QTimer.singleShot(0, lambda: finish(0)))
        window.sig_open_failed.connect(lambda _m: QTimer.singleShot(0, lambda: finish(1)))
        QTimer.singleShot(SMOKE_TIMEOUT_MS, lambda: finish(1))
    window.show()
    qapp.exec()
    return exit_code[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.version:
        print(f"incident-inspector {__version__}")
        return 0
    try:
        for folder in args.domain_path:
            add_domain_path(folder)
    except IncidentError as exc:
        print(f"incident-inspector: {exc}", file=sys.stderr)
        return 2
    if args.smoke:
        return _smoke(args)
    qapp = _application()
    install_excepthook()
    window = create_window(args.target, domain=args.domain, read_only=args.read_only)
    window.show()
    settle_memory()
    return qapp.exec()


if __name__ == "__main__":
    sys.exit(main())
