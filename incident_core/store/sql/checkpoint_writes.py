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

_MOVES: dict[int, tuple[Any, list[str]]] = {}  # by number of names: statement, its names


def _move(count: int) -> tuple[Any, list[str]]:
    found = _MOVES.get(count)
    if found is None:
        keys = [f"n{i}" for i in range(count)]
        names: list[Any] = [bindparam(k) for k in keys]
        found = _MOVES[count] = (update(CP).where(CP.c.name.in_(names))
                                 .values(position=bindparam("to")), keys)
    return found


def write(store: SqlStoreCore, cursor: Any, moved: dict[str, int], new: set[str]) -> None:
    """Store `moved` (name → position); `new`: names that may have no row yet."""
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
        params: dict[str, Any] = dict(zip(keys, names, strict=True))
        params["to"] = position
        store.prepared(f"checkpoint_move:{len(names)}", statement).run(cursor, params)
