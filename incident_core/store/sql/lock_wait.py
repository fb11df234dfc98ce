"""How long a SQLite writer waits for another process's lock, and saying what it waits for.

SQLite waits for another process's write lock silently (up to the busy timeout). A caller
that wants to tell its user registers a notice with `on_lock_wait`; from then on a single
watcher thread looks every quarter second whether a writer of this process has been waiting
for the lock longer than `after` seconds, and calls the notice once per wait. The cost for a
writer is marking the start and the end of its wait (two assignments).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["BUSY_TIMEOUT_S", "listened", "lock_timeout", "on_lock_wait", "set_lock_timeout",
           "waiting_for_lock"]

BUSY_TIMEOUT_S = 30.0
_settings = {"lock_timeout": BUSY_TIMEOUT_S}

Notice = Callable[[str, float], None]  # (what is awaited, seconds waited so far)

_lock = threading.Lock()
_waits: dict[int, tuple[str, float, list[bool]]] = {}  # wait id -> (what, since, [noticed])
_notice: list[tuple[Notice, float]] = []
_watcher: list[threading.Thread] = []


def set_lock_timeout(seconds: float) -> None:
    """How long SQLite stores opened from now on wait for another process's lock before
    failing with "the store is locked" (default BUSY_TIMEOUT_S)."""
    _settings["lock_timeout"] = seconds


def lock_timeout() -> float:
    """The current lock wait, in seconds (see set_lock_timeout)."""
    return _settings["lock_timeout"]


def on_lock_wait(notice: Notice | None, *, after: float = 1.0) -> None:
    """Call `notice(what, waited)` when a write-lock wait lasts longer than `after`
    seconds (None: stop noticing)."""
    with _lock:
        _notice[:] = [] if notice is None else [(notice, after)]
        if notice is not None and not _watcher:
            thread = threading.Thread(target=_watch, name="incident-lock-wait", daemon=True)
            _watcher.append(thread)
            thread.start()


def listened() -> bool:
    """Whether a notice listens for lock waits (else `waiting_for_lock` does nothing)."""
    return bool(_notice)


@contextmanager
def waiting_for_lock(what: str) -> Iterator[None]:
    """Mark the block as a wait for `what` (a lock); a no-op unless someone listens."""
    if not _notice:
        yield
        return
    key = threading.get_ident()
    _waits[key] = (what, time.monotonic(), [False])
    try:
        yield
    finally:
        _waits.pop(key, None)


def _watch() -> None:
    while True:
        time.sleep(0.25)
        with _lock:
            listener = _notice[0] if _notice else None
        if listener is None:
            continue
        notice, after = listener
        now = time.monotonic()
        for what, since, noticed in list(_waits.values()):
            if not noticed[0] and now - since >= after:
                noticed[0] = True
                notice(what, now - since)
