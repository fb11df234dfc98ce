"""Reads that stop when asked: the window lends the shown store's `interrupt` to every
query lane (so a read cancelled while it runs stops its statement), and on close stops
every lane and worker at once, interrupting the store's running reads until they ended.

Without it, closing the window waited for the longest read under way: the whole-store
activity chart scans every event (≈ 17 s at 10M events).
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import QWidget

from incident_core.ports import EventStore
from incident_gui.tasks.query_lane import QueryLane
from incident_gui.tasks.workers import active_workers

__all__ = ["STOP_WAIT_S", "lend_interrupt", "stop_reads"]

STOP_WAIT_S = 5.0  # then the window's shutdown waits for what is left, as before
_POLL_MS = 20


def lend_interrupt(window: QWidget, store: EventStore | None) -> None:
    """Every lane of the window stops reads of `store` it is told to cancel."""
    for lane in window.findChildren(QueryLane):
        lane.interrupter = None if store is None else store.interrupt


def stop_reads(window: QWidget, store: EventStore | None) -> None:
    """Cancel every lane's reads and every worker, and interrupt `store`'s running
    statements until the lanes' and workers' threads ended (at most STOP_WAIT_S)."""
    lanes = window.findChildren(QueryLane)
    for lane in lanes:
        lane.stop(wait=False)
    workers = active_workers()
    for worker in workers:
        worker.cancel()
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        busy = [lane for lane in lanes if lane.is_running()]
        busy_workers = [worker for worker in workers if worker.is_running()]
        if not busy and not busy_workers:
            return
        if store is not None:
            store.interrupt()  # a read that began after the last ask is asked again
        if busy:
            busy[0].wait(_POLL_MS)
        else:
            busy_workers[0].wait(_POLL_MS)
