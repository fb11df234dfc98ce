"""Run in a separate OS process by the kill -9 test: 8 threads dispatch until killed; each
command acknowledged (committed) is printed as `key event_count`, after its commit."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incident_core import Application
from tests import group_commit_domain as g

lock = threading.Lock()


def writer(app: Application, thread: int) -> None:
    i = 0
    while True:
        i += 1
        key = f"w{thread}-{i}"
        n = -1 if i % 7 == 0 else i % 9 + 1  # some rejected: they print nothing
        result = app.dispatch(g.Put(aggregate_id=f"box-{thread % 3}", n=n), idempotency_key=key)
        if result.ok:
            with lock:
                print(key, len(result.events), flush=True)


def main() -> None:
    app = Application.open(sys.argv[1], g.domain)
    threads = [threading.Thread(target=writer, args=(app, n), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
