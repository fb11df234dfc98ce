"""Shared pieces of the time-travel widgets: running a core call off the UI thread, and
tables of rows and row differences."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QTableWidget, QTableWidgetItem

from incident_core.operations.rowdiff import RowDiff
from incident_core.progress import Progress
from incident_gui.tasks.workers import OperationWorker, call_operation, run_operation

__all__ = ["SHOWN_ROWS", "Runner", "diff_lines", "fill_diff", "fill_rows", "make_table", "summary"]

SHOWN_ROWS = 5000  # rows put in one table (the counts above it are exact)
_COLOURS = {"added": QColor("#d8f5d8"), "removed": QColor("#f8d7d7"),
            "changed": QColor("#fff3c4")}


class Runner:
    """One requester's core call or operation at a time, on the tasks API's operation worker
    (`run_operation`): its answer reaches only this runner's callbacks. A new run cancels
    the previous one (its token: a queued or between-yields operation stops, and an answer
    that still arrives is dropped)."""

    def __init__(self, on_error: Callable[[str, str], None]) -> None:
        self.worker: OperationWorker[Any] | None = None
        self._on_error = on_error

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def call(self, function: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.run(lambda: call_operation(function), done)

    def run(self, factory: Callable[[], Generator[Progress, None, Any]],
            done: Callable[[Any], None],
            progress: Callable[[Progress], None] | None = None) -> None:
        self.cancel()
        started: list[OperationWorker[Any]] = []  # this run's worker, once it is started

        def current() -> bool:
            """True for the latest run (it is then forgotten: it has ended)."""
            if not started or started[0] is not self.worker:
                return False
            self.worker = None
            return True

        def finished(result: object) -> None:
            if current():
                done(result)

        def failed(message: str, details: str) -> None:
            if current():
                self._on_error(message, details)

        def moved(step: Progress) -> None:
            if progress is not None and started and started[0] is self.worker:
                progress(step)

        def stopped() -> None:
            current()

        worker = run_operation(factory, done=finished, failed=failed, progress=moved,
                               cancelled=stopped)
        started.append(worker)
        self.worker = worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()


def make_table(name: str) -> QTableWidget:
    table = QTableWidget()
    table.setObjectName(name)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    return table


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def fill_rows(table: QTableWidget, columns: Sequence[str],
              rows: Sequence[Sequence[Any]]) -> None:
    table.clear()
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    shown = rows[:SHOWN_ROWS]
    table.setRowCount(len(shown))
    for r, row in enumerate(shown):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(_text(value)))
    table.resizeColumnsToContents()


def diff_lines(diff: RowDiff) -> list[tuple[str, str, str, Any, Any]]:
    """(change, key, column, before, after): one line per added/removed row and per
    changed column."""
    lines: list[tuple[str, str, str, Any, Any]] = []
    lines += [("added", _text(row[diff.key]), "", None, None) for row in diff.added]
    lines += [("removed", _text(row[diff.key]), "", None, None) for row in diff.removed]
    for change in diff.changed:
        lines += [("changed", change.key, column, change.before.get(column),
                   change.after.get(column)) for column in change.columns]
    return lines


def fill_diff(table: QTableWidget, diff: RowDiff) -> None:
    lines = diff_lines(diff)
    fill_rows(table, ("change", "key", "column", "before", "after"), lines)
    for r, line in enumerate(lines[:SHOWN_ROWS]):
        for c in range(5):
            item = table.item(r, c)
            if item is not None:
                item.setBackground(_COLOURS[line[0]])


def summary(diff: RowDiff) -> str:
    if diff.is_empty:
        return "No difference: the rows are identical."
    counts = diff.counts
    return (f"{counts['added']} added, {counts['removed']} removed, "
            f"{counts['changed']} changed")
