"""Before Qt starts: are the desktop libraries its window needs on this machine?

Qt aborts (a core dump) when its xcb platform plugin cannot load one of its libraries, and
its message often names a library that *is* installed. So `incident-inspector` asks the
dynamic loader for each library first — the same `dlopen` search Qt's plugin loader uses —
and, when some are missing, prints one line naming them and the command that installs them.
Only the standard library here: this module must run where Qt cannot.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

__all__ = ["DESKTOP_LIBRARIES", "XCB_LIBRARIES", "missing_packages", "platform_name",
           "problem"]

# soname → Debian/Ubuntu package, for every window (Qt's own dependencies)…
DESKTOP_LIBRARIES: dict[str, str] = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}
# …and for the xcb (X11 / XWayland) platform plugin.
XCB_LIBRARIES: dict[str, str] = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
_NO_WINDOW = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")
_NO_WINDOW_ARGS = ("--version",)  # answered without Qt (incident_gui.launch)


def platform_name(environ: Mapping[str, str]) -> str:
    """The Qt platform plugin that will start: QT_QPA_PLATFORM's first choice, else xcb
    (on Wayland, too: the inspector runs through XWayland unless told otherwise)."""
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    first = requested.split(";")[0].split(":")[0].strip().lower()
    return first or "xcb"


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_packages(platform: str, loads: Callable[[str], bool] = _loads) -> dict[str, str]:
    """{soname: package} of the libraries `platform` needs that the loader cannot find."""
    if platform in _NO_WINDOW:  # no window, but QtCore and QtGui link these all the same
        wanted: dict[str, str] = dict(DESKTOP_LIBRARIES)
    elif platform == "xcb":
        wanted = {**DESKTOP_LIBRARIES, **XCB_LIBRARIES}
    else:
        wanted = dict(DESKTOP_LIBRARIES)
    return {soname: package for soname, package in wanted.items() if not loads(soname)}


def problem(argv: list[str] | None = None, environ: Mapping[str, str] | None = None,
            loads: Callable[[str], bool] | None = None) -> str | None:
    """One line for the user when a library is missing, or None when Qt can start."""
    argv = sys.argv[1:] if argv is None else argv
    if not sys.platform.startswith("linux") or any(a in _NO_WINDOW_ARGS for a in argv):
        return None
    platform = platform_name(os.environ if environ is None else environ)
    missing = missing_packages(platform, loads or _loads)
    if not missing:
        return None
    names = ", ".join(missing)
    packages = " ".join(dict.fromkeys(missing.values()))
    return (f"incident-inspector: the {platform} window needs {names}, not found on this "
            f"machine; install with: sudo apt-get install {packages}")
