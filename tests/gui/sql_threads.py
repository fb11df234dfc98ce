"""A guard for the GUI's threading policy: which thread ran each SQL statement.

`SqlThreads.install(monkeypatch)` makes every SQLite connection opened from then on (the
store's SQLAlchemy pool, its WAL checkpointer, the schema inspection before an open, ...)
report each statement it runs, through sqlite3's `set_trace_callback`, together with the
thread that ran it; closing a connection is recorded too (closing the last one
checkpoints the WAL: file I/O). A statement run on the main (UI) thread keeps the
innermost frames of our own code that asked for it, so a failure names the caller.

Statements a test makes itself on the main thread (seeding, reading what to expect) are
left out with `with guard.test_reads():`.
"""

from __future__ import annotations

import sqlite3
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["CLOSE", "SqlThreads", "Statement"]

CLOSE = "<close connection>"
_OURS = ("incident_gui", "incident_core")


@dataclass(frozen=True)
class Statement:
    sql: str
    thread: str
    on_main: bool
    caller: str  # our innermost frames, for statements on the main thread

    def __str__(self) -> str:
        return f"{self.sql.strip()[:90]!r} on {self.thread}\n{self.caller}"


def _caller() -> str:
    frames = [f for f in traceback.extract_stack()[:-3]
              if any(part in f.filename for part in _OURS)]
    return "".join(f"    {f.filename.rsplit('/', 2)[-2:]}:{f.lineno} {f.name}\n"
                   for f in frames[-6:])


class SqlThreads:
    """Every statement of every SQLite connection opened after `install`."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self._lock = threading.Lock()
        self._test_reads = False

    def record(self, sql: str) -> None:
        thread = threading.current_thread()
        on_main = thread is threading.main_thread()
        if on_main and self._test_reads:
            return
        statement = Statement(sql, thread.name, on_main, _caller() if on_main else "")
        with self._lock:
            self.statements.append(statement)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> SqlThreads:
        original = sqlite3.connect
        guard = self

        class Traced(sqlite3.Connection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.set_trace_callback(guard.record)

            def close(self) -> None:
                guard.record(CLOSE)
                super().close()

        def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            kwargs.setdefault("factory", Traced)
            return original(*args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", connect)
        return self

    @contextmanager
    def test_reads(self) -> Iterator[None]:
        """The test's own statements on the main thread: not the GUI's, not recorded."""
        self._test_reads = True
        try:
            yield
        finally:
            self._test_reads = False

    def on_main_thread(self) -> list[Statement]:
        with self._lock:
            return [s for s in self.statements if s.on_main]

    def off_main_thread(self) -> list[Statement]:
        with self._lock:
            return [s for s in self.statements if not s.on_main]

    def report(self) -> str:
        """The statements on the UI thread, one example per calling code path."""
        found = self.on_main_thread()
        paths: dict[str, Statement] = {}
        for statement in found:
            gui = [line for line in statement.caller.splitlines() if "'sql'" not in line
                   and "'store'" not in line and "'engine'" not in line]
            paths.setdefault(gui[-1] if gui else statement.caller, statement)
        return f"{len(found)} statements on the UI thread, from {len(paths)} places:\n" + \
            "\n".join(str(s) for s in paths.values())
