"""Full garbage collections held off while long operations run (no Qt here).

A full collection walks every object the process holds and stops every thread while it
does, the UI thread included. A rebuild, an import or an export builds objects by the
million on its worker, and each full collection then walks them all: at a million events
that was a stall of 0.7 to 1.4 s in the window, and it grows with the store. While at least
one long operation runs, `held_full_collections()` raises the third threshold so the
collector only does its young generations (a few milliseconds each); when the last one
ends the thresholds are restored, and the next full collection walks what is left, by
then mostly freed (reference counting frees acyclic garbage on its own meanwhile).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["full_collections_held", "held_full_collections"]

_HELD_THRESHOLD = 1 << 30  # young collections before a full one: never, in practice


class _Hold:
    """How many operations hold full collections off, and the thresholds to restore."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.saved: tuple[int, int, int] | None = None

    def enter(self) -> None:
        with self.lock:
            if self.holders == 0:
                self.saved = gc.get_threshold()
                gc.set_threshold(self.saved[0], self.saved[1], _HELD_THRESHOLD)
            self.holders += 1

    def leave(self) -> None:
        with self.lock:
            self.holders -= 1
            if self.holders == 0 and self.saved is not None:
                gc.set_threshold(*self.saved)
                self.saved = None


_HOLD = _Hold()


def full_collections_held() -> bool:
    """Whether a long operation holds full collections off now."""
    return _HOLD.holders > 0


@contextmanager
def held_full_collections() -> Iterator[None]:
    """Hold full collections off for the duration (nested and concurrent uses count)."""
    _HOLD.enter()
    try:
        yield
    finally:
        _HOLD.leave()
