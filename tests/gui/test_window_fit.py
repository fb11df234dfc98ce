"""The window fits the screen it opens on: first size and every restored geometry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QStatusBar, QTabWidget

# Opens the window on TARGET, reports what is on screen, closes it (saving its layout).
# The right pane counts as on screen when its whole width is: on a screen smaller than the
# panels' minimum sizes, the window's content scrolls vertically.
_PROBE = """
import json, sys
from PySide6.QtTest import QTest
from incident_gui.main import _application, create_window
app = _application()
window = create_window(sys.argv[1])
window.show()
QTest.qWait(300)
if len(sys.argv) > 2:
    window.move(int(sys.argv[2]), int(sys.argv[3]))
    window.resize(int(sys.argv[4]), int(sys.argv[5]))
    QTest.qWait(100)
area = window.screen().availableGeometry()
def rect(r): return [r.x(), r.y(), r.width(), r.height()]
def on_screen(widget, corners=("topLeft", "topRight", "bottomLeft", "bottomRight")):
    return all(area.contains(widget.mapToGlobal(getattr(widget.rect(), c)()))
               for c in corners)
from PySide6.QtWidgets import QStatusBar, QTabWidget
print(json.dumps({"area": rect(area), "frame": rect(window.frameGeometry()),
                  "status_on_screen": on_screen(window.findChild(QStatusBar)),
                  "tabs_on_screen": on_screen(window.findChild(QTabWidget, "sideTabs"),
                                             ("topLeft", "topRight"))}))
window.close()
"""


def _screen_config(tmp_path: Path, width: int, height: int) -> str:
    config = tmp_path / f"screen-{width}x{height}.json"
    config.write_text(json.dumps({"windowFrameMargins": True, "screens": [
        {"name": "probe", "x": 0, "y": 0, "width": width, "height": height,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    return f"offscreen:configfile={config}"


def _probe(tmp_path: Path, store: str, size: tuple[int, int], scale: int,
           *place: int) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": _screen_config(tmp_path, *size),
           "QT_SCALE_FACTOR": str(scale), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", _PROBE, store, *map(str, place)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _inside(inner: list[int], outer: list[int]) -> bool:
    return QRect(*outer).contains(QRect(*inner))


@pytest.mark.parametrize(("size", "scale"), [((1366, 768), 1), ((1366, 768), 2),
                                             ((1920, 1080), 2)])
def test_first_size_fits_the_available_area(tmp_path: Path, bank_store: str,
                                            size: tuple[int, int], scale: int) -> None:
    report = _probe(tmp_path, bank_store, size, scale)
    assert report["area"] == [0, 0, size[0] // scale, size[1] // scale]
    assert _inside(report["frame"], report["area"]), report
    assert report["status_on_screen"] and report["tabs_on_screen"], report


def test_a_geometry_saved_on_a_big_screen_is_fitted_when_restored(
        tmp_path: Path, bank_store: str) -> None:
    big = _probe(tmp_path, bank_store, (2560, 1440), 1, 900, 500, 1600, 900)
    assert big["frame"][2:] == [1604, 904]  # the big screen kept the size it was given
    small = _probe(tmp_path, bank_store, (1366, 768), 2)
    assert _inside(small["frame"], small["area"]), small
    assert small["status_on_screen"] and small["tabs_on_screen"], small


def test_the_test_screen_fits_too(make_window: Callable[..., Any], bank_store: str) -> None:
    window = make_window(bank_store)
    area = window.screen().availableGeometry()
    assert area.contains(window.frameGeometry())
    status = window.findChild(QStatusBar)
    tabs = window.findChild(QTabWidget, "sideTabs")
    assert status.isVisible() and tabs.isVisible()
