"""What a user does on opening a big store, measured in the real window (offscreen).

Used by `bench_inspector.py` after its first page and End measures. Each step is timed
from the user's action to what it shows, with a 10 ms heartbeat on the UI thread whose
longest gap is the longest stall meanwhile (target: none over 50 ms), and the UI thread's
own CPU time until it is done (what the load of other processes does not change):

* the whole-store activity chart (from the window's creation; its lane reads the exact
  event count and the event types first);
* the streams list: filtered by a glob and by a substring, then cleared again;
* a stream far down (the first event's): its timeline, state and activity shown;
* time travel to an early position (streams, projection rows and state as of then),
  and back to now.

`--shots DIR` (bench_inspector) saves a screenshot after each step, to check by eye that
nothing says "loading" or "computing" forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = tuple[str, float, float, str]
STALL = 0.05  # the target: no UI stall over 50 ms
EARLY = 1_000  # time travel goes back to this position


class Steps:
    """Times steps (action → condition) with the heartbeat; optional screenshots."""

    def __init__(self, window: Any, beat: Any, run_until: Callable[..., float],
                 shots: Path | None) -> None:
        self.window, self.beat, self.run_until, self.shots = window, beat, run_until, shots
        self.rows: list[Row] = []

    def step(self, name: str, action: Callable[[], object], done: Callable[[], bool],
             target: float, timeout: float = 600) -> None:
        self.beat.start()
        started, cpu = time.perf_counter(), time.thread_time()
        action()
        self.run_until(done, timeout)
        took, cpu = time.perf_counter() - started, time.thread_time() - cpu
        self.rows += [(name, took, target, "s"),
                      ("   longest UI stall meanwhile", self.beat.stop(), STALL, "s"),
                      ("   UI thread CPU meanwhile (load aside)", cpu, target, "s")]
        self.shot(name)

    def shot(self, name: str) -> None:
        if self.shots is None:
            return
        self.shots.mkdir(parents=True, exist_ok=True)
        stem = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:48]
        self.window.grab().save(str(self.shots / f"{len(self.rows):02d}-{stem}.png"))


def _streams_idle(window: Any) -> Callable[[], bool]:
    streams = window.streams_panel
    return lambda: not streams.model.is_loading() and not streams.seeking()


def measure_browse(window: Any, opened_at: float, beat: Any, run_until: Callable[..., float],
                   shots: Path | None = None) -> list[Row]:
    """The steps above in `window` (its store open, first page shown at `opened_at`)."""
    steps = Steps(window, beat, run_until, shots)
    activity = window.store_activity
    run_until(lambda: "computing" not in activity.caption.text(), 600)
    steps.rows.append(("whole-store activity chart shown (since the window)",
                       time.perf_counter() - opened_at, 1.0, "s"))
    steps.shot("opened")
    _streams(steps, window)
    _far_stream(steps, window)
    _time_travel(steps, window)
    return steps.rows


def _filter_streams(window: Any, text: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    edit = window.streams_panel.filter_edit
    edit.setText(text)
    QTest.keyClick(edit, Qt.Key.Key_Return)  # at once, not after the typing delay


def _streams(steps: Steps, window: Any) -> None:
    model = window.streams_panel.model
    idle = _streams_idle(window)
    for text, name in (("acc-0000*", "glob acc-0000*"), ("c00", "substring c00"),
                       ("", "cleared")):
        steps.step(f"streams filter {name}: Return → first page",
                   lambda text=text: _filter_streams(window, text),
                   lambda: idle() and model.rowCount() > 0, 1.0)


def _far_stream(steps: Steps, window: Any) -> None:
    """The first event's stream (least recently active: at the bottom of the list)."""
    store = window.session.app.store
    first = store.read_events(after_position=0, limit=1)[0]  # set-up, not measured
    timeline, state = window.timeline_panel, window.state_view
    idle = _streams_idle(window)

    def shown() -> bool:
        return (idle() and not timeline.is_loading() and timeline.model.rowCount() > 0
                and "computing" not in window.aggregate_activity.caption.text()
                and not state_busy(state))

    steps.step("a stream far down (first event's): its timeline, state, chart",
               lambda: window.show_event(first), shown, 1.0)


def state_busy(state: Any) -> bool:
    return "computing" in state.title.text()


def _time_travel(steps: Steps, window: Any) -> None:
    projections, travel = window.projection_panel, window.time_travel
    idle = _streams_idle(window)
    window.side_tabs.setCurrentWidget(projections)

    def settled() -> bool:
        return idle() and not projections.is_loading() and not state_busy(window.state_view)

    steps.step(f"time travel to position {EARLY:,}: streams, projections, state",
               lambda: travel.show_moment(EARLY), settled, 2.0)
    steps.step("back to now", lambda: travel.show_moment(None), settled, 2.0)
