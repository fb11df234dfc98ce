"""Run in a separate OS process by the race tests: one command, result printed as JSON."""

from __future__ import annotations

import json
import sys
import time

from incident_core import Application
from incident_core.examples.bank import domain


def main() -> None:
    target, command_type, data, start_at = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    app = Application.open(target, domain)
    delay = float(start_at) - time.time()
    if delay > 0:
        time.sleep(delay)
    result = app.dispatch_data(command_type, data)
    app.close()
    print(json.dumps({"ok": result.ok, "reason": getattr(result, "reason", None)}))


if __name__ == "__main__":
    main()
