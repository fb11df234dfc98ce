"""What a single writer (`Dialect.single_writer`: SQLite) remembers of committed state
between its transactions, so that a dispatch reads nothing it wrote itself: the head and
checkpoints and the hot projection rows.

`Committed` is valid while the database's `PRAGMA data_version` (read once per transaction,
under the write lock) still gives its `version`: any other connection's commit changes it and
the whole memory is dropped. A transaction never changes `Committed`: it collects its own
changes in `Changes`, which a savepoint rolled back puts back as they were, and which are
merged only after the transaction commits (a rolled-back transaction drops the memory). A
transaction that changes what the memory cannot follow (a projection table made again,
more rows than the memory keeps) stops using it and drops it at
its commit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import islice
from typing import Any

__all__ = ["FORGOTTEN", "ROW_LIMIT", "Changes", "Committed", "RowKey"]

ROW_LIMIT = 4096  # rows remembered (the most recently written)
RowKey = tuple[str, str]  # (projection, row key)
FORGOTTEN: dict[str, Any] = {}  # (by identity) a row to read from the database again


class Committed:
    """The writer's memory after its last commit (see the module)."""

    __slots__ = ("checkpoints", "head", "rows", "version")

    def __init__(self, version: int, head: int, checkpoints: dict[str, int]) -> None:
        self.version = version
        self.head = head
        self.checkpoints = checkpoints  # as stored: FOLLOWS is `head` (checkpoint_writes.py)
        self.rows: dict[RowKey, dict[str, Any] | None] = {}  # None: no such row


class Changes:
    """One transaction's changes to the writer's memory, merged at its commit."""

    __slots__ = ("rows", "tracking")

    def __init__(self) -> None:
        self.tracking = True  # False: the memory is not used, and dropped at the commit
        self.rows: dict[RowKey, dict[str, Any] | None] = {}

    def stop(self) -> None:
        """This transaction changed what the memory cannot follow."""
        self.tracking = False
        self.rows.clear()

    def put_row(self, key: RowKey, row: dict[str, Any] | None,
                kinds: Sequence[tuple[str, str]]) -> None:
        """A row written (None: deleted); `kinds`: (column, kind) of its table."""
        if not self.tracking:
            return
        if len(self.rows) >= ROW_LIMIT:  # a bulk write: not worth remembering
            self.stop()
            return
        self.rows[key] = None if row is None else _as_stored(row, kinds)

    def mark(self) -> tuple[Any, ...]:
        """What `reset` puts back (a savepoint's start)."""
        return (self.tracking, dict(self.rows))

    def reset(self, mark: tuple[Any, ...]) -> None:
        tracking, rows = mark
        if not self.tracking:  # stays stopped: the memory it dropped is not coming back
            return
        self.tracking = tracking
        self.rows = rows

    def merged(self, before: Committed | None, version: int, head: int,
               checkpoints: dict[str, int]) -> Committed:
        """The memory after this transaction committed (`before`: the memory it started
        from, kept only if nobody else committed since it was made)."""
        keep = before is not None and before.version == version and self.tracking
        out = before if keep and before is not None else Committed(version, head, checkpoints)
        out.head, out.checkpoints = head, checkpoints
        if not self.tracking:
            return out
        _refresh(out.rows, self.rows)
        return out


def _refresh(memory: dict[Any, Any], changes: dict[Any, Any]) -> None:
    """Put `changes` in as the newest entries; forget the oldest beyond ROW_LIMIT."""
    for key, value in changes.items():
        memory.pop(key, None)
        if value is not FORGOTTEN:
            memory[key] = value
    extra = len(memory) - ROW_LIMIT
    if extra > 0:
        for key in list(islice(memory, extra)):
            del memory[key]


def _as_stored(row: dict[str, Any], kinds: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The row as the database gives it back (the column types' affinity applied), or
    FORGOTTEN when a value might come back otherwise (it is then read again)."""
    out: dict[str, Any] = {}
    for name, kind in kinds:
        value = row.get(name)
        vtype = type(value)
        if value is None or (vtype is str and kind == "text") \
                or (vtype is int and kind == "integer"):
            out[name] = value
        elif kind == "float" and (vtype is float or vtype is int) \
                and not math.isnan(value):
            out[name] = float(value)
        elif kind == "boolean" and vtype is bool:
            out[name] = int(value)
        else:
            return FORGOTTEN
    return out if len(out) == len(row) else FORGOTTEN
