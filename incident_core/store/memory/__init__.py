"""The in-memory adapter (tests, demos, `memory:`): the same contract as the SQL one."""

from incident_core.store.memory.store import MemoryEventStore

__all__ = ["MemoryEventStore"]
