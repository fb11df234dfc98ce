"""The time-travel widgets' runner is the task API's operation worker with one requester:
only its latest run answers, an earlier one is cancelled (or its late answer dropped)."""

from __future__ import annotations

import threading
from typing import Any

from incident_gui.tasks.workers import active_workers
from incident_gui.widgets.tt_common import Runner


def test_a_new_run_cancels_the_previous_one(qtbot: Any) -> None:
    gate = threading.Event()
    answers: list[object] = []
    runner = Runner(lambda message, _details: answers.append(("failed", message)))
    runner.call(lambda: gate.wait(5) and "first", answers.append)
    assert runner.busy
    runner.call(lambda: "second", answers.append)
    gate.set()
    qtbot.waitUntil(lambda: active_workers() == [], timeout=5000)
    assert answers == ["second"]
    assert not runner.busy


def test_an_error_reaches_the_runner_and_ends_it(qtbot: Any) -> None:
    answers: list[object] = []
    runner = Runner(lambda message, _details: answers.append(("failed", message)))

    def broken() -> None:
        raise ValueError("no such position")

    runner.call(broken, answers.append)
    qtbot.waitUntil(lambda: active_workers() == [], timeout=5000)
    assert answers == [("failed", "Unexpected error: ValueError: no such position")]
    assert not runner.busy
