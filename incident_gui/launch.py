"""What the `incident-inspector` command runs: check the desktop libraries, then start Qt.

Inside the bundle the same executable also runs the inspector's rebuild process
(`incident_core.operations.rebuild_child`, given `--rebuild-child` alone).

`incident_gui.main` imports Qt, and Qt aborts the process when a library of its platform
plugin is missing; `incident_gui.preflight` finds that out first, with the standard library
only, and turns it into one line and exit code 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from incident_gui import preflight

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--rebuild-child"]:  # the bundle's rebuild process: no Qt, no window
        from incident_core.operations.rebuild_child import main as rebuild_child

        return rebuild_child()
    if "--version" in args:  # no Qt needed to say it
        from incident_gui import __version__

        print(f"incident-inspector {__version__}")
        return 0
    message = preflight.problem(args)
    if message is not None:
        print(message, file=sys.stderr)
        return 1
    try:
        from incident_gui.main import main as start
    except ImportError as exc:  # a library the check does not know of: still one line
        print(f"incident-inspector: Qt cannot start: {exc}", file=sys.stderr)
        return 1
    return start(args)


if __name__ == "__main__":
    sys.exit(main())
