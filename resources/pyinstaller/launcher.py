"""Entry point of the frozen inspector: what `incident-inspector` runs inside the bundle.

The same function the `incident-inspector` gui-script calls (`incident_gui.app:main`).
"""

from incident_gui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
