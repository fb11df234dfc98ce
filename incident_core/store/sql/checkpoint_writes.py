"""Writing the checkpoints a transaction moved: after a command every projection and saga
that follows the head moves to the same position, so they are moved by one
`UPDATE ... WHERE name IN (...)` (prepared once per number of names) instead of one upsert
each; a checkpoint that may have no row yet is upserted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, update

from incident_core.store.sql.queries import CP

if TYPE_CHECKING:
    from incident_core.store.sql.core import SqlStoreCore

__all__ = ["write"]

_MOVES: dict[int, Any] = {}  # statements by number of names, built once


def _move(count: int) -> Any:
    found = _MOVES.get(count)
    if found is None:
        names: list[Any] = [bindparam(f"n{i}") for i in range(count)]
        found = _MOVES[count] = (update(CP).where(CP.c.name.in_(names))
                                 .values(position=bindparam("to")))
    return found


def write(store: SqlStoreCore, cursor: Any, moved: dict[str, int], new: set[str]) -> None:
    """Store `moved` (name → position); `new`: names that may have no row yet."""
    fresh = [{"name": n, "position": p, "signature": ""} for n, p in moved.items() if n in new]
    if fresh:
        store.prepared("checkpoint_upsert", store.checkpoint_upsert).run_many(cursor, fresh)
    by_position: dict[int, list[str]] = {}
    for name, position in moved.items():
        if name not in new:
            by_position.setdefault(position, []).append(name)
    for position, names in by_position.items():
        params: dict[str, Any] = {f"n{i}": name for i, name in enumerate(names)}
        params["to"] = position
        store.prepared(f"checkpoint_move:{len(names)}", _move(len(names))).run(cursor, params)
