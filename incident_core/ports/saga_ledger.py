"""The process side, read: parked saga steps and rejected saga commands (eventsourcing's
ProcessRecorder keeps the tracking; here checkpoints live with the projections). Writes go
through `SagaTransaction`."""

from __future__ import annotations

from abc import ABC, abstractmethod

from incident_core.process import ParkedStep, SagaOutcome

__all__ = ["SagaLedger"]


class SagaLedger(ABC):
    """What the process managers left to look at."""

    @abstractmethod
    def parked_steps(self, *, include_skipped: bool = False,
                     process_manager: str | None = None) -> list[ParkedStep]:
        """Parked saga steps, by process manager then position (skipped ones on request)."""

    @abstractmethod
    def saga_outcomes(self, *, correlation_id: str) -> list[SagaOutcome]:
        """Rejected commands of saga steps in one conversation, in recording order."""
