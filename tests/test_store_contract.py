"""The store port's contract (`incident_core.testing`), written once and run against every
adapter: memory, a SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import pytest

from incident_core import EventStore, open_store
from incident_core.testing import StoreContract, StoreFactory


class TargetFactory(StoreFactory):
    """Stores opened from one target (`store_target`: memory, SQLite or PostgreSQL)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create(self) -> EventStore:
        return open_store(self.target, create=True)

    def read_only(self, store: EventStore) -> EventStore:
        if self.target == "memory:":  # a memory store is only reachable through itself
            store.read_only = True
            return store
        return open_store(self.target, read_only=True)


@pytest.fixture
def store_factory(store_target: str) -> StoreFactory:
    return TargetFactory(store_target)


class TestStoreContract(StoreContract):
    """Every check, for each adapter of `store_target` (conftest.py)."""
