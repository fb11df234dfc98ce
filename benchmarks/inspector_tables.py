"""Inspector tables on a big store: sorting by a header click and exporting the log.

Used by `bench_inspector.py` (after its own measures), or on its own::

    python benchmarks/inspector_tables.py --store PATH [--make EVENTS]

`--make` builds a bank store of about EVENTS events fast: a small demo store made with
real commands (accounts, transfers through the saga), exported, then imported again and
again under new ids with `Application.import_events` (no commands, projections follow).

Measured in the real window (offscreen), each with a 10 ms heartbeat on the UI thread:

* header click → first page of the sorted global log (event type; recorded time, which
  has no index) and of the streams (event count; aggregate id), target < 1 s;
* exporting the whole log to NDJSON (events/s) and the log sorted newest first to CSV;
* the longest UI stall during each (target: none over 50 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

Row = tuple[str, float, float, str]
STALL = 0.05  # issue 11: no UI stall over 50 ms


def make_bulk_store(path: Path, events: int) -> None:
    """About `events` bank events: a 10k-event demo store imported again under new ids."""
    from incident_core import Application
    from incident_core.examples.bank import domain
    from incident_core.operations.demo import demo
    from incident_core.progress import run_to_end

    seed_path = path.with_name(path.name + ".seed")
    for target in (seed_path, path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    with Application.open(str(seed_path), domain, create=True, synchronous="OFF") as app:
        run_to_end(demo(app, accounts=100, transfers=2000, seed=1, batch_size=1000))
        seed = [e.to_json() for batch in app.store.iter_events() for e in batch]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{seed_path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    with Application.open(str(path), domain, create=True, synchronous="OFF") as app:
        copy = 0
        while app.store.head() < events:
            batch = [_renamed(e, copy) for e in seed]
            for at in range(0, len(batch), 5000):
                app.import_events(batch[at:at + 5000])
            copy += 1
        made = app.store.head()
    print(f"made {made:,} events in {time.perf_counter() - started:,.0f} s", flush=True)


def _renamed(envelope: dict[str, Any], copy: int) -> dict[str, Any]:
    """The envelope under ids of copy number `copy` (aggregates, events, causes)."""
    def rename(value: Any) -> Any:
        return f"{value}-c{copy:03d}" if isinstance(value, str) else value

    out = dict(envelope, event_id=f"{copy:04d}{envelope['event_id'][4:]}",
               aggregate_id=rename(envelope["aggregate_id"]))
    out.pop("position", None)
    metadata = dict(envelope.get("metadata") or {})
    for key in ("causation_id", "correlation_id"):
        if isinstance(metadata.get(key), str):
            metadata[key] = f"{copy:04d}{metadata[key][4:]}"
    out["metadata"] = metadata
    out["data"] = {k: rename(v) if isinstance(v, str) and v[:4] in ("acc-", "tr-0") else v
                   for k, v in envelope["data"].items()}
    return out


def _header_click(view: Any, section: int) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    header = view.horizontalHeader()
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))


def measure_tables(window: Any, beat: Any, run_until: Callable[..., float], *,
                   exports: bool = True) -> list[Row]:
    """Sort and export in `window` (a store already open); `beat` is a Heartbeat."""
    rows: list[Row] = []
    log_panel, streams = window.global_log_panel, window.streams_panel
    log = log_panel.model
    for _ in range(2):  # warm up: Qt's enums and QtTest are made on first use
        _header_click(log_panel.view, 0)
        run_until(lambda: log.rowCount() > 0 and log.event_at(0) is not None, 600)
    for section, name in ((3, "event type"), (4, "recorded time, no index")):
        beat.start()
        started = time.perf_counter()
        _header_click(log_panel.view, section)
        run_until(lambda: log.rowCount() > 0 and log.event_at(0) is not None, 600)
        took = time.perf_counter() - started
        rows += [(f"log sorted by {name}: header click → first page", took, 1.0, "s"),
                 ("   longest UI stall meanwhile", beat.stop(), STALL, "s")]
    for section, name in ((3, "event count"), (0, "aggregate id")):
        beat.start()
        started = time.perf_counter()
        _header_click(streams.view, section)
        run_until(lambda: streams.model.rowCount() > 0, 600)
        rows += [(f"streams sorted by {name}: header click → first page",
                  time.perf_counter() - started, 1.0, "s"),
                 ("   longest UI stall meanwhile", beat.stop(), STALL, "s")]
    from incident_core.ports.sorting import SortKey

    log_panel.set_sort(SortKey("position"))
    if exports:
        rows += _measure_exports(window, beat, run_until)
    return rows


def _measure_exports(window: Any, beat: Any, run_until: Callable[..., float]) -> list[Row]:
    from incident_core.ports.sorting import SortKey

    rows: list[Row] = []
    log_panel = window.global_log_panel
    head = window.session.app.store.head()
    with tempfile.TemporaryDirectory() as folder:
        for fmt, sort in (("ndjson", SortKey("position")), ("csv", SortKey("position", True))):
            log_panel.set_sort(sort)
            target = Path(folder) / f"log.{fmt}"
            beat.start()
            started = time.perf_counter()
            window.table_menus.export_log(fmt, target)
            run_until(lambda: not window.table_menus.exports.is_running(), 3600)
            took = time.perf_counter() - started
            order = "oldest first" if not sort.descending else "newest first"
            rows += [(f"export {head:,} events to {fmt.upper()} ({order}), events/s",
                      head / took, 0.0, "events/s"),
                     ("   longest UI stall meanwhile", beat.stop(), STALL, "s")]
            with open(target) as fp:
                if fmt == "ndjson":
                    assert json.loads(fp.readline())["position"] == 1
            target.unlink()
    log_panel.set_sort(SortKey("position"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--make", type=int, default=0, metavar="EVENTS")
    args = parser.parse_args()
    if args.make and not args.store.exists():
        make_bulk_store(args.store, args.make)
    from PySide6.QtWidgets import QApplication

    import incident_gui  # noqa: F401  (applies the PySide6 guard before Qt starts)
    from benchmarks.bench_inspector import Heartbeat, print_table, run_until
    from incident_gui.main import create_window, settle_memory

    _qapp = QApplication.instance() or QApplication([])
    window = create_window(str(args.store))
    window.show()
    run_until(lambda: window.global_log_panel.model.event_at(0) is not None, 60)
    run_until(lambda: "computing" not in window.store_activity.caption.text(), 300)
    settle_memory()  # as the inspector's main() does once the window is up
    rows = measure_tables(window, Heartbeat(), run_until)
    head = window.session.app.store.head()
    window.close()
    print_table(rows, head)
    return 0


if __name__ == "__main__":
    sys.exit(main())
