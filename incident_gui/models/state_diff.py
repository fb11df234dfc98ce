"""Which fields of an aggregate's state an event changed (plain JSON values, no Qt)."""

from __future__ import annotations

from typing import Any

__all__ = ["MISSING", "changed_paths"]

Path = tuple[str, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def changed_paths(before: Any, after: Any, path: Path = ()) -> set[Path]:
    """Paths (key tuples) whose value differs between two JSON values. Objects are
    compared key by key, so a changed nested field marks itself and each parent."""
    if isinstance(before, dict) and isinstance(after, dict):
        changed: set[Path] = set()
        for key in {*before, *after}:
            changed |= changed_paths(before.get(key, MISSING), after.get(key, MISSING),
                                     (*path, str(key)))
        if changed and path:
            changed.add(path)
        return changed
    return set() if before == after else {path}
