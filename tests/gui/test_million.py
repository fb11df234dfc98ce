"""A million-event log sorted by a header click, through the real window (slow: the
store takes a while to write)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QTableView

from incident_core import open_store
from incident_core.envelope import PendingEvent
from incident_core.ports.sorting import SortKey
from tests.gui.test_table_sorting import click_header

MILLION = 1_000_000
TYPES = ("Opened", "Deposited", "Withdrawn", "Closed")


@pytest.fixture(scope="session")
def million_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("million") / "million.sqlite3")
    store = open_store(path, create=True, synchronous="OFF")  # bulk: no fsync
    try:
        for start in range(0, MILLION, 50_000):
            batch = []
            for n in range(start, start + 50_000):
                aggregate, version = f"s-{n % 20_000:05d}", n // 20_000 + 1
                when = f"2026-01-01T{n // 3_600_000:02d}:{n // 60_000 % 60:02d}:" \
                       f"{n // 1000 % 60:02d}.{n % 1000:03d}000+00:00"
                batch.append(PendingEvent(
                    str(uuid.UUID(int=n)), aggregate, "Thing", TYPES[n * 7 % 4], version,
                    when, json.dumps({"n": n}), "{}", 1, None, None))
            with store.transaction() as tx:
                tx.append(batch)
    finally:
        store.close()
    return path


@pytest.mark.slow
@pytest.mark.timeout(900)  # its setup writes the million events: ~35 s of CPU, minutes when busy
def test_sorting_a_million_event_log_by_a_header(make_window, million_store, qtbot,
                                                 tmp_path: Path):
    window = make_window(million_store, read_only=True)  # its events are of no known domain
    view = window.findChild(QTableView, "globalLogView")
    model = view.model()
    assert model.rowCount() == MILLION
    started = time.perf_counter()
    click_header(qtbot, view, 3)  # Event type, ascending
    qtbot.waitUntil(lambda: model.rowCount() > 0 and not model.is_loading(), timeout=10_000)
    assert time.perf_counter() - started < 5  # < 1 s unloaded; the benchmark measures it
    for _ in range(3):  # keyset pages continue the order
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not model.is_loading(), timeout=10_000)
    rows = [model.event_at(r) for r in range(model.rowCount())]
    assert len(rows) == 800
    assert [(e.event_type, e.position) for e in rows] == sorted(
        (e.event_type, e.position) for e in rows)
    assert rows[0].event_type == "Closed" and rows[0].position == 2  # n=1: 7 % 4 = 3
    click_header(qtbot, view, 0)  # Position: newest first
    click_header(qtbot, view, 0)
    qtbot.waitUntil(lambda: model.rowCount() > 0 and not model.is_loading(), timeout=10_000)
    assert model.sort_key == SortKey("position", descending=True)
    assert model.event_at(0).position == MILLION
