"""The reads a SQL store is running, by thread, so that another thread can stop them.

`SqlEventStore.reading()` files its driver connection here for as long as the read holds
it; `interrupt(thread)` asks the database to stop the statement each filed connection of
that thread runs (SQLite's `Connection.interrupt()`, PostgreSQL's cancel request: see
`Dialect.interrupt`). The read then fails with a `StoreError`; its connection stays usable
(SQLite) or is rolled back when it goes back to the pool (PostgreSQL).

Only reads are filed: a write transaction is never interrupted. Filing and interrupting
hold one lock, so an interrupt never reaches a connection after its read gave it back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["RunningReads"]


class RunningReads:
    """Driver connections held by reads, by thread (`threading.get_ident()`)."""

    def __init__(self, interrupt: Callable[[Any], None]) -> None:
        self._interrupt = interrupt
        self._lock = threading.Lock()
        self._held: dict[int, list[Any]] = {}

    @contextmanager
    def held(self, raw: Any) -> Iterator[None]:
        """File `raw` under the calling thread while the block runs."""
        thread = threading.get_ident()
        with self._lock:
            self._held.setdefault(thread, []).append(raw)
        try:
            yield
        finally:
            with self._lock:
                held = self._held[thread]
                held.remove(raw)
                if not held:
                    del self._held[thread]

    def interrupt(self, thread: int | None = None) -> int:
        """Stop the statements of `thread`'s reads (None: every thread's); how many
        connections were asked. A connection between statements ignores it."""
        with self._lock:
            targets = [raw for ident, held in self._held.items()
                       if thread is None or ident == thread for raw in held]
            for raw in targets:
                self._interrupt(raw)
        return len(targets)
