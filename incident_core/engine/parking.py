"""Saga-step failures: how a raising handler becomes a parked step, and which failures are
the store's own (never parked: the step is healthy, the database is not)."""

from __future__ import annotations

import traceback
from types import TracebackType

from pydantic import ValidationError

from incident_core.envelope import RecordedEvent, now_text
from incident_core.errors import (
    CorruptStoreError,
    IncidentError,
    ReadOnlyError,
    StoreError,
    format_loc,
)
from incident_core.process import ParkedStep
from incident_core.values import kept_text

__all__ = ["StepFailed", "is_infrastructure", "one_line", "parked_step", "write_guard"]

_DATABASE_DOWN = {"OperationalError", "InterfaceError", "InternalError"}


class StepFailed(Exception):
    """Internal: a saga step raised; the engine rolls back and parks it (never escapes)."""

    def __init__(self, step: ParkedStep) -> None:
        super().__init__(step.error)
        self.step = step

    @property
    def key(self) -> tuple[str, int]:
        return self.step.process_manager, self.step.position


def is_infrastructure(exc: BaseException) -> bool:
    """The database failed (lost connection, lock, read-only, corrupt): not the step's fault."""
    if isinstance(exc, ReadOnlyError | CorruptStoreError):
        return True
    if isinstance(exc, StoreError) and exc.__cause__ is not None:
        return is_infrastructure(exc.__cause__)
    return type(exc).__name__ in _DATABASE_DOWN


def one_line(exc: BaseException) -> str:
    """`Type: message` on one line (pydantic's multi-line errors condensed)."""
    if isinstance(exc, ValidationError):
        reasons = "; ".join(f"{format_loc(e['loc'])}: {e['msg']}"
                            for e in exc.errors(include_url=False))
        return f"ValidationError: {exc.title}: {reasons}"
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def parked_step(process_manager: str, recorded: RecordedEvent, exc: BaseException, *,
                attempts: int = 1) -> ParkedStep:
    return ParkedStep(
        process_manager=process_manager, position=recorded.position,
        event_id=recorded.event_id, event_type=recorded.event_type,
        aggregate_id=recorded.aggregate_id, correlation_id=recorded.correlation_id,
        error=kept_text(one_line(exc)),
        traceback=kept_text("".join(traceback.format_exception(exc))),
        parked_at=now_text(), attempts=attempts, status="parked")


class write_guard:
    """Whatever else the store raises while writing (a value its driver cannot bind, text
    it cannot encode) becomes a StoreError; the transaction was rolled back. (A class, not
    a generator: it runs for every command.)"""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, _type: type[BaseException] | None, exc: BaseException | None,
                 _tb: TracebackType | None) -> None:
        if exc is None or isinstance(exc, (IncidentError, StepFailed)) \
                or not isinstance(exc, Exception):
            return
        raise StoreError(f"the store refused the write ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())}); nothing was written") from exc
