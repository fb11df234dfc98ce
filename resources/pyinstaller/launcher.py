"""Entry point of the frozen inspector: what `incident-inspector` runs inside the bundle.

The same function the `incident-inspector` gui-script calls (`incident_gui.launch:main`). The
bundle takes the desktop's own libraries (GLib, fontconfig, EGL/GL, xkbcommon, D-Bus, X11)
from the machine; `incident_gui.preflight` checks them before Qt starts and names the missing
ones; should an import still fail on one, say which packages to install, not a traceback.
"""

import sys

SYSTEM_PACKAGES = ("libglib2.0-0 libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3; "
                   "for X11 also libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 "
                   "libxcb-render-util0 libxcb-shape0 libxkbcommon-x11-0")

try:
    from incident_gui.launch import main
except ImportError as exc:
    if "cannot open shared object file" not in str(exc):
        raise  # a module missing from the bundle: a build bug, keep the traceback
    sys.stderr.write(f"incident-inspector: a system library is missing: {exc}\n"
                     f"  Debian/Ubuntu: apt-get install {SYSTEM_PACKAGES}\n")
    raise SystemExit(1) from None

if __name__ == "__main__":
    raise SystemExit(main())
