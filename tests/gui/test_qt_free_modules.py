"""The GUI's plain-Python modules stay free of Qt: they are importable (and testable)
without PySide6, and the core's rules apply to them (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

QT_FREE = (
    "incident_gui",
    "incident_gui.preflight",
    "incident_gui.models.sort_order",
    "incident_gui.models.state_diff",
    "incident_gui.models.log_pages",
    "incident_gui.models.stream_reads",
    "incident_gui.session.change_feed",
    "incident_gui.tasks.collector",
    "incident_gui.session.store_session",
    "incident_gui.session.store_updates",
    "incident_gui.widgets.conversation_layout",
    "incident_gui.presentation.formatting",
    "incident_gui.presentation.chart_layout",
    "incident_gui.presentation.progress_text",
)


def test_qt_free_modules_import_no_qt() -> None:
    code = ("import importlib, sys\n"
            f"for name in {QT_FREE!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"
