"""The process-manager side of the application: draining sagas batch by batch, parking the
steps that raise, and retrying or skipping them later."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from incident_core.domain import Domain
from incident_core.engine.parking import StepFailed, write_guard
from incident_core.engine.unit import Unit
from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError, StoreError
from incident_core.ports import EventStore, StoreTransaction
from incident_core.process import ParkedStep, ProcessManager

if TYPE_CHECKING:
    from incident_core.engine.application import Application

__all__ = ["ProcessManagers"]


def _parked_in(tx: StoreTransaction, process_manager: str, position: int) -> ParkedStep:
    step = tx.parked(process_manager, position)
    if step is None:
        raise IncidentError(f"no parked step of {process_manager} at position {position}")
    return step


def _event_at(tx: StoreTransaction, position: int) -> RecordedEvent:
    found = tx.events_after(position - 1, limit=1)
    if not found or found[0].position != position:
        raise StoreError(f"no event at position {position}")
    return found[0]


class ProcessManagers:
    """Mixed into Application (which provides the store and the domain)."""

    store: EventStore
    domain: Domain

    def _unit(self, tx: StoreTransaction, *,
              park: dict[tuple[str, int], ParkedStep] | None = None) -> Unit:
        app: Application = self  # type: ignore[assignment]
        return Unit(app, tx, park=park)

    def run_process_managers(self, *, batch: int = 500) -> int:
        """Handle every event the process managers have not handled yet; return how many.
        Each batch commits together with the commands it caused and the checkpoints; a
        step whose handler raises is parked (see `parked_steps`), the others go on."""
        return self._drain(batch)[0]

    def _drain(self, batch: int = 500) -> tuple[int, list[ParkedStep]]:
        if self.store.read_only or not self.domain.process_managers:
            return 0, []
        total, parked = 0, []
        while True:
            unit, handled, more = self._drain_batch(batch)
            unit.publish()
            parked.extend(unit.parked_now)
            total += handled
            if handled == 0 or not more:
                return total, parked

    def _drain_batch(self, batch: int) -> tuple[Unit, int, bool]:
        """One batch in one transaction. A failing step rolls the batch back; it is then
        redone with that step parked (its checkpoint moving past it in the same commit)."""
        park: dict[tuple[str, int], ParkedStep] = {}
        while True:
            try:
                with write_guard(), self.store.transaction() as tx:
                    unit = self._unit(tx, park=park)
                    handled = unit.drain(batch)
                    more = unit.finish(fast_forward=False)
                return unit, handled, more
            except StepFailed as failure:
                if failure.key in park:
                    raise StoreError(f"cannot park the failed saga step {failure.key}: "
                                     f"{failure.step.error}") from None
                park[failure.key] = failure.step

    # -- parked saga steps ------------------------------------------------------------
    def parked_steps(self, *, include_skipped: bool = False) -> list[ParkedStep]:
        """Saga steps whose handler raised, waiting for a retry or a skip."""
        return self.store.parked_steps(include_skipped=include_skipped)

    def retry_parked(self, process_manager: str, position: int) -> ParkedStep | None:
        """Run a parked step's handler again: None when it succeeds now (it is unparked
        and what it dispatched is recorded), else the step with its new error."""
        pm = self._manager(process_manager)
        try:
            with write_guard(), self.store.transaction() as tx:
                _parked_in(tx, process_manager, position)
                unit = self._unit(tx)
                unit.run_step(pm, _event_at(tx, position))
                unit.finish(fast_forward=False)
                tx.unpark(process_manager, position)
        except StepFailed as failure:
            with write_guard(), self.store.transaction() as tx:
                old = _parked_in(tx, process_manager, position)
                step = replace(failure.step, attempts=old.attempts + 1)
                tx.park(step)
            return step
        unit.publish()
        self._drain()
        return None

    def skip_parked(self, process_manager: str, position: int, reason: str) -> ParkedStep:
        """Give up on a parked step, recording why (it stays listed as skipped)."""
        if not reason.strip():
            raise IncidentError("a reason is required to skip a parked saga step")
        self._manager(process_manager)
        with write_guard(), self.store.transaction() as tx:
            step = replace(_parked_in(tx, process_manager, position), status="skipped",
                           skip_reason=reason)
            tx.park(step)
        return step

    def _manager(self, name: str) -> ProcessManager:
        try:
            return self.domain.process_managers[name]
        except KeyError:
            known = ", ".join(sorted(self.domain.process_managers)) or "none"
            raise IncidentError(f"unknown process manager {name!r}; known: {known}") from None
