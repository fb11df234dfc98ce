"""The cyclic garbage collector paused around work that builds many objects holding no
cycles (a page of replayed events, a stream's rows, an import's parsed lines): each fresh
object would otherwise count towards a collection that scans them all, for nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (as it was before afterwards: a caller that
    had it off keeps it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
