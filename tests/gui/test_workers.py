"""OperationWorker: core generators off the UI thread, with progress, cancel and errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from incident_core.errors import StoreError
from incident_core.progress import Progress
from incident_gui.tasks.workers import (
    MAX_PROGRESS_RATE,
    OperationWorker,
    active_workers,
    call_operation,
    cancel_all_workers,
)


@pytest.fixture(autouse=True)
def workers_done(qtbot: Any) -> Iterator[None]:
    """Every worker delivers its ending signal (conftest then checks no QThread is left)."""
    yield
    qtbot.waitUntil(lambda: active_workers() == [], timeout=5000)


def counting(n: int, seen: list[int] | None = None, pause: float = 0.0,
             ) -> Generator[Progress, None, str]:
    for i in range(n):
        if seen is not None:
            seen.append(i)
        if pause:
            time.sleep(pause)
        yield Progress(i + 1, n, "counting")
    return f"counted {n}"


def test_finished_carries_the_return_value_and_runs_off_the_ui_thread(qtbot: Any) -> None:
    ui_thread = threading.get_ident()
    threads: list[int] = []

    def operation() -> Generator[Progress, None, str]:
        threads.append(threading.get_ident())
        return (yield from counting(3))

    worker = OperationWorker(operation)
    slot_threads: list[int] = []
    results: list[object] = []
    worker.signals.progress.connect(lambda p: slot_threads.append(threading.get_ident()))
    worker.signals.finished.connect(results.append)
    with qtbot.waitSignals([worker.signals.started, worker.signals.finished],
                           timeout=5000, order="strict"):
        worker.start()
    assert results == ["counted 3"]
    assert threads and threads[0] != ui_thread
    assert slot_threads and set(slot_threads) == {ui_thread}
    assert not worker.is_running()


def test_progress_is_throttled(qtbot: Any) -> None:
    received: list[Progress] = []
    worker = OperationWorker(lambda: counting(2000, pause=0.0002))
    worker.signals.progress.connect(received.append)
    started = time.monotonic()
    with qtbot.waitSignal(worker.signals.finished, timeout=10000):
        worker.start()
    elapsed = time.monotonic() - started
    assert 1 <= len(received) <= elapsed * MAX_PROGRESS_RATE + 2
    assert received[0].done == 1


def test_cancel_closes_the_generator_between_yields(qtbot: Any) -> None:
    seen: list[int] = []
    closed = threading.Event()
    wrote: list[str] = []

    def operation() -> Generator[Progress, None, None]:
        try:
            yield from counting(10_000, seen, pause=0.001)
            wrote.append("written")
        except GeneratorExit:
            closed.set()
            raise

    worker = OperationWorker(operation)
    worker.signals.progress.connect(lambda _p: worker.cancel())
    finished: list[object] = []
    worker.signals.finished.connect(finished.append)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=5000):
        worker.start()
    assert closed.is_set() and not wrote and not finished
    assert len(seen) < 10_000
    assert worker.cancel_requested


def test_an_incident_error_gives_its_own_message(qtbot: Any) -> None:
    def operation() -> Generator[Progress, None, None]:
        yield Progress(0, 1)
        raise StoreError("the store is locked by another writer")

    worker = OperationWorker(operation)
    with qtbot.waitSignal(worker.signals.errored, timeout=5000) as blocker:
        worker.start()
    message, details = blocker.args
    assert message == "the store is locked by another writer"
    assert details.startswith("StoreError:") and "Traceback" not in details
    assert isinstance(worker.exception, StoreError)


def test_other_exceptions_carry_the_traceback(qtbot: Any) -> None:
    worker = OperationWorker(lambda: call_operation(lambda: {}["missing"]))
    with qtbot.waitSignal(worker.signals.errored, timeout=5000) as blocker:
        worker.start()
    message, details = blocker.args
    assert message == "Unexpected error: KeyError: 'missing'"
    assert "Traceback (most recent call last)" in details and "KeyError" in details


def test_call_operation_wraps_a_blocking_call(qtbot: Any) -> None:
    worker = OperationWorker(lambda: call_operation(lambda: 6 * 7))
    with qtbot.waitSignal(worker.signals.finished, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == [42]


def test_a_worker_runs_once(qtbot: Any) -> None:
    worker = OperationWorker(lambda: counting(1))
    with qtbot.waitSignal(worker.signals.finished, timeout=5000):
        worker.start()
    with pytest.raises(RuntimeError):
        worker.start()


def test_cancel_all_workers_ends_every_thread(qtbot: Any) -> None:
    workers = [OperationWorker(lambda: counting(100_000, pause=0.001)) for _ in range(3)]
    for worker in workers:
        worker.start()
    assert len(active_workers()) == 3
    assert cancel_all_workers(timeout_ms=5000)
    assert not any(w.is_running() for w in workers)
    qtbot.waitUntil(lambda: active_workers() == [], timeout=5000)


def test_a_dropped_worker_still_reports(qtbot: Any) -> None:
    results: list[object] = []

    def start() -> OperationWorker[str]:
        worker = OperationWorker(lambda: counting(50, pause=0.001))
        worker.signals.finished.connect(results.append)
        worker.start()
        return worker

    signals = start().signals  # the worker itself is no longer referenced here
    with qtbot.waitSignal(signals.finished, timeout=5000):
        pass
    assert results == ["counted 50"]
