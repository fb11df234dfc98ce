"""Run as a separate OS process by the shared-writer tests:

    shared_writer_worker.py DB PROC COMMANDS same|other [GATE_DIR]

Opens DB with the shared writer, prints `ready serving=0|1`, waits for a line on stdin, then
2 threads dispatch COMMANDS commands each (random n: some rejected, some raising; even ones
with an idempotency key, odd ones without). After each answer it prints `ok COMMAND_ID
EVENT_ID`, `rejected KEY` or `error KEY TYPE`; at the end `stats FORWARDED RESENT`. Process 1 sends
n=99 as its 6th command (with GATE_DIR: the writer holds its batch open there)."""

from __future__ import annotations

import random
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incident_core import Application, IncidentError
from tests import shared_writer_domain as s

lock = threading.Lock()


def say(line: str) -> None:
    with lock:
        print(line, flush=True)


def writer(app: Application, proc: int, thread: int, commands: int) -> None:
    rng = random.Random(proc * 100 + thread)
    put = s.Other.Put if app.domain is s.other_domain else s.Put
    for i in range(commands):
        n = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, -1, 13])
        if proc == 1 and thread == 0 and i == 5:
            n = 99
        key = f"p{proc}-t{thread}-{i}" if i % 2 == 0 else None
        try:
            result = app.dispatch(put(aggregate_id=f"box-{rng.randrange(4)}", n=n),
                                  idempotency_key=key)
        except IncidentError as exc:
            say(f"error {key} {type(exc).__name__}")
            continue
        if result.ok:
            event = result.events[0]
            say(f"ok {event.metadata['command_id']} {event.event_id}")
        else:
            say(f"rejected {key}")


def main() -> None:
    db, proc, commands, variant = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if len(sys.argv) > 5:
        s.GATE.append(Path(sys.argv[5]))
    app = Application.open(db, s.domain if variant == "same" else s.other_domain,
                           shared_writer=True)
    assert app.shared_writer is not None
    say(f"ready serving={int(app.shared_writer.serving)}")
    sys.stdin.readline()
    threads = [threading.Thread(target=writer, args=(app, proc, t, commands)) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    say(f"stats {app.shared_writer.forwarded} {app.shared_writer.resent}")
    app.close()


if __name__ == "__main__":
    main()
