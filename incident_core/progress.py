"""Progress of long operations, yielded by plain generators (driven by the CLI and the GUI).

A long operation is written once as ``Generator[Progress, None, Result]``: it yields
progress, checks nothing about its caller, and returns its result. A caller cancels simply
by not resuming it (and closing it); operations only write when they finish.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Operation", "Progress", "run_to_end"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


Operation = Generator[Progress, None, T]


def run_to_end(operation: Operation[T]) -> T:
    """Drive an operation without reporting progress; return its result."""
    while True:
        try:
            next(operation)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
