"""Where the UI thread is when it stalls: a watchdog for `bench_inspector.py --stalls`.

A daemon thread looks every 5 ms at the heartbeat's last tick; when it is late by more
than `late` seconds, it takes the UI thread's Python stack (`sys._current_frames`), with
the innermost lines of every other thread's (a worker that holds the GIL in one long C
call, a pydantic validation or a JSON parse, stalls the UI thread without showing in its
stack), and counts them. At the end, the most frequent stacks say what the UI thread was doing (or
waiting for: a thread that wants the GIL shows the line it stopped at) during stalls.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from types import FrameType

__all__ = ["StallWatch"]


class StallWatch:
    def __init__(self, last_tick: Callable[[], float | None], phase: Callable[[], str], *,
                 late: float = 0.03) -> None:
        self._phase = phase
        self._last_tick = last_tick
        self._late = late
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self.stacks: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._run, name="stallWatch", daemon=True)
        self._gc_started = 0.0
        self.collections: list[tuple[str, int, float, int]] = []  # phase, gen, s, objects

    def _on_gc(self, stage: str, info: dict[str, int]) -> None:
        """Every collection's length: a full one stops every thread, the UI's too."""
        if stage == "start":
            self._gc_started = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_started
        if took > 0.01:
            self.collections.append((self._phase(), info["generation"], took,
                                     info["collected"]))

    def start(self) -> StallWatch:
        gc.callbacks.append(self._on_gc)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            last = self._last_tick()  # None: the heartbeat is not running
            if last is None or time.perf_counter() - last < self._late:
                continue
            frames = sys._current_frames()
            frame = frames.pop(self._main or 0, None)
            frames.pop(threading.get_ident(), None)
            if frame is not None:
                where = _where(frame, 12)
                others = "".join(f"  [{_name(ident)}]\n{_where(other, 4)}"
                                 for ident, other in frames.items())
                self.stacks[f"{self._phase()}\n{where}other threads:\n{others}"] += 1

    def report(self, top: int = 6) -> None:
        self._stop.set()
        self._thread.join()
        gc.callbacks.remove(self._on_gc)
        print("\ncollections over 10 ms (phase, generation, ms):",
              ", ".join(f"{phase} gen{gen} {took * 1000:.0f}"
                        for phase, gen, took, _n in self.collections) or "none")
        total = sum(self.stacks.values())
        print(f"\nUI thread late by > {self._late * 1000:.0f} ms: {total} samples (5 ms)")
        for stack, count in self.stacks.most_common(top):
            print(f"--- {count} samples\n{stack}")


def _where(frame: FrameType, limit: int) -> str:
    lines = traceback.format_stack(frame, limit=limit)
    return "".join(line.split("\n")[0] + "\n" for line in lines)


def _name(ident: int) -> str:
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return names.get(ident, str(ident))
