"""The rebuild and the close, measured in the real window (offscreen), for
`bench_inspector.py` after the browsing steps:

* Store → Rebuild all projections (a child process where the window can start one; a
  thread of the window's process with `--rebuild-in-thread`, to compare), cancelled after
  `--rebuild-seconds`: the longest UI stall while it replays and from Cancel to its end
  (10 ms heartbeat), and the peak RSS of the rebuild process;
* closing the window while the whole-store activity chart reads (≈ 17 s at 10M): the
  store's running reads are interrupted, so `close()` does not wait for the scan.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = tuple[str, float, float, str]
Until = Callable[[Callable[[], bool], float], float]  # bench_inspector.run_until
STALL, PEAK_RSS_MB, CLOSE = 0.05, 300.0, 0.2  # the targets: stall, RSS, closing


def measure_rebuild(window: Any, beat: Any, run_until: Until,
                    options: argparse.Namespace) -> list[Row]:
    """Rebuild every projection from the menu (cancelled after --rebuild-seconds): the
    longest UI stall, the stall of the cancel alone, and the rebuild process's peak RSS."""
    panel, shots = window.projection_panel, options.shots
    if options.rebuild_in_thread:  # as before the rebuild process: for a comparison
        panel.set_application(window.session.app, None)
        run_until(lambda: not panel.is_loading(), 60)
    beat.start()
    started = time.perf_counter()
    window.rebuild_projections()
    where = "a child process" if panel.rebuilds_in_child() else "a thread"
    halfway = min(options.rebuild_seconds / 2, 5.0)
    run_until(lambda: not panel.is_rebuilding() or time.perf_counter() - started > halfway,
              3600)
    replaying = beat.stop()
    if shots is not None and panel.is_rebuilding():  # a grab stalls: not measured
        shot(window, shots, "rebuild-progress")
    beat.start()
    run_until(lambda: not panel.is_rebuilding()
              or time.perf_counter() - started > options.rebuild_seconds, 3600)
    rebuild_seconds = time.perf_counter() - started
    done = "" if not panel.is_rebuilding() else ", then cancelled"
    replaying = max(replaying, beat.stop())
    beat.start()
    cancel_started = time.perf_counter()
    panel.cancel_rebuild()
    run_until(lambda: not panel.is_rebuilding(), 600)
    cancel_seconds = time.perf_counter() - cancel_started
    cancel_stall = beat.stop()
    if shots is not None:
        shot(window, shots, "rebuild-cancelled")
    return [(f"longest UI stall during a rebuild ({rebuild_seconds:.1f} s{done}, in {where})",
             max(replaying, cancel_stall), STALL, "s"),
            ("   of which while it replays", replaying, STALL, "s"),
            (f"   of which from Cancel to its end ({cancel_seconds:.2f} s)", cancel_stall,
             STALL, "s"),
            ("peak RSS of the rebuild process (0: it ran in this one)", child_rss_mb(),
             PEAK_RSS_MB, "MB")]


def measure_close(window: Any, run_until: Until) -> Row:
    """Close the window while the whole-store activity chart reads (it scans every event:
    ≈ 17 s at 10M): the seconds `close()` takes."""
    window.store_activity.reload()
    spin = time.perf_counter()
    run_until(lambda: time.perf_counter() - spin > 0.5, 5)
    started = time.perf_counter()
    window.close()
    return ("close the window while the whole-store chart reads",
            time.perf_counter() - started, CLOSE, "s")


def shot(window: Any, shots: Path, name: str) -> None:
    shots.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(shots / f"{name}.png"))


def child_rss_mb() -> float:
    """The peak RSS of the largest child process waited for so far."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
