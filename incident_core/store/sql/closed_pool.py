"""Closed means closed (`store/closed.py`): the pool a SQL store's engines get when it closes.

`Engine.dispose()` alone gives the engine a fresh pool, which would open new connections
(reopen the store's files) for any read or write made after `close()`. Every way into the
database, the store's own reads and writes and the modules that connect through
`store.engine` (grouped reads, snapshots, careful reads, the PostgreSQL listener), checks a
connection out of the engine's pool: this one refuses every checkout with a `StoreError`,
so nothing is opened again and the files are left as they were."""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy import Engine
from sqlalchemy.pool import Pool

from incident_core.store.closed import closed_error

__all__ = ["ClosedPool", "shut"]


class ClosedPool(Pool):
    """A pool that never connects: every checkout raises `closed_error`."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(creator=self._refuse)

    def _refuse(self) -> NoReturn:
        raise closed_error(self.target)

    def connect(self) -> NoReturn:
        self._refuse()

    def _do_get(self) -> NoReturn:
        self._refuse()

    def _do_return_conn(self, record: Any) -> None:
        """Nothing is ever checked out of this pool."""

    def dispose(self) -> None:
        """Nothing to dispose of."""

    def recreate(self) -> ClosedPool:
        return self

    def status(self) -> str:
        return f"{self.target}: closed"


def shut(engine: Engine, target: str) -> None:
    """Close every pooled connection of `engine` and refuse any new one from now on."""
    engine.dispose()
    engine.pool = ClosedPool(target)
