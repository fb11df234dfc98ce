"""A write transaction's checkpoints: read once, written only when what is stored must change.

Schema 6 stores a checkpoint at the head as `FOLLOWS` (see `queries.CHECKPOINTS_READ`):
after a command every projection and saga it brought up to date is at the new head, which
`FOLLOWS` already says, so a dispatch writes no checkpoint row. Before a transaction that
appended commits, `Checkpoints.settle` writes what the stored values must now say: a
checkpoint that follows the head but was not moved with it (a projection this process does
not run, switched off, a saga behind) gets its real position; one moved to the head
becomes `FOLLOWS`; one moved elsewhere gets its position. Rows that move to the same value
are moved by one `UPDATE ... WHERE name IN (...)` (prepared once per number of names); a
checkpoint that has no row yet is upserted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, update

from incident_core.store.sql.queries import CP, FOLLOWS

if TYPE_CHECKING:
    from incident_core.store.sql.core import SqlStoreCore

__all__ = ["Checkpoints", "write"]

_MOVES: dict[int, tuple[Any, list[str]]] = {}  # by number of names: statement, its names


class Checkpoints:
    """The checkpoints as this transaction sees them (`logical`: positions) and as the
    database holds them (`stored`: positions or FOLLOWS)."""

    __slots__ = ("dirty", "logical", "stored")

    def __init__(self, stored: dict[str, int], start: int) -> None:
        """`stored`: the rows as read; `start`: the head they were read at."""
        self.stored = stored
        self.logical = {n: start if p == FOLLOWS else p for n, p in stored.items()}
        self.dirty: set[str] = set()  # moved since the last settle

    def set(self, name: str, position: int) -> None:
        if self.logical.get(name) == position and name in self.stored:
            return  # it did not move: nothing to write
        self.logical[name] = position
        self.dirty.add(name)

    def written(self, name: str, position: int) -> None:
        """`name`'s row was written with `position` (a real position) outside `settle`."""
        self.stored[name] = self.logical[name] = position
        self.dirty.discard(name)

    def settle(self, store: SqlStoreCore, cursor: Any, head: int) -> None:
        """Write what the stored values must say at `head` (see the module)."""
        stored, logical, dirty = self.stored, self.logical, self.dirty
        moved: dict[str, int] = {}
        for name, was in stored.items():  # the moved ones, and those that follow the head
            if was == FOLLOWS or name in dirty:
                position = logical[name]
                want = FOLLOWS if position == head else position
                if was != want:
                    moved[name] = want
        for name in dirty:
            if name not in stored:
                position = logical[name]
                moved[name] = FOLLOWS if position == head else position
        if moved:
            write(store, cursor, moved, {n for n in moved if n not in stored})
            stored.update(moved)
        self.dirty.clear()

    def mark(self) -> tuple[dict[str, int], dict[str, int]]:
        """What `reset` puts back (a savepoint's start, right after a settle)."""
        return dict(self.stored), dict(self.logical)

    def reset(self, mark: tuple[dict[str, int], dict[str, int]]) -> None:
        self.stored, self.logical = dict(mark[0]), dict(mark[1])
        self.dirty.clear()


def _move(count: int) -> tuple[Any, list[str]]:
    found = _MOVES.get(count)
    if found is None:
        keys = [f"n{i}" for i in range(count)]
        names: list[Any] = [bindparam(k) for k in keys]
        found = _MOVES[count] = (update(CP).where(CP.c.name.in_(names))
                                 .values(position=bindparam("to")), keys)
    return found


def write(store: SqlStoreCore, cursor: Any, moved: dict[str, int], new: set[str]) -> None:
    """Store `moved` (name → stored value); `new`: names that may have no row yet."""
    if new:
        fresh = [{"name": n, "position": p, "signature": ""} for n, p in moved.items()
                 if n in new]
        store.prepared("checkpoint_upsert", store.checkpoint_upsert).run_many(cursor, fresh)
    by_position: dict[int, list[str]] = {}
    for name, position in moved.items():
        if name not in new:
            by_position.setdefault(position, []).append(name)
    for position, names in by_position.items():
        statement, keys = _move(len(names))
        params: dict[str, Any] = dict(zip(keys, sorted(names), strict=True))
        params["to"] = position
        store.prepared(f"checkpoint_move:{len(names)}", statement).run(cursor, params)
