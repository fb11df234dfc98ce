"""Seed a store through real commands, deterministically for a seed: the domain's demo.

The commands come from the domain's `demo` scenario (`Domain(demo=...)`; the bank's opens
accounts, then requests transfers). They are dispatched in batches, one transaction each,
and the sagas run after every batch. Each batch is committed before progress is reported:
stopping the generator (or killing the process) leaves a consistent store holding the
batches done so far; sagas left half-way are finished by the next write.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from incident_core.domain import Command, DemoScenario, Domain
from incident_core.engine.application import Application
from incident_core.process import Rejected
from incident_core.progress import Operation, Progress

__all__ = ["DemoReport", "check_demo", "demo"]



@dataclass(frozen=True, slots=True)
class DemoReport:
    seed: int
    accounts: int
    transfers: int
    commands: int
    accepted: int
    rejected: dict[str, int] = field(default_factory=dict)
    events: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "accounts": self.accounts, "transfers": self.transfers,
                "commands": self.commands, "accepted": self.accepted,
                "rejected": dict(sorted(self.rejected.items())), "events": self.events,
                "seconds": round(self.seconds, 3),
                "events_per_second": round(self.events_per_second)}


def check_demo(domain: Domain, accounts: int, transfers: int) -> DemoScenario:
    """The domain's demo scenario; ValueError unless it can run with these settings."""
    if domain.demo is None:
        raise ValueError(f"domain {domain.name!r} has no demo scenario "
                         f"(give its Domain a demo=...)")
    if accounts < 0 or transfers < 0:
        raise ValueError("accounts and transfers cannot be negative")
    if transfers and accounts < 2:
        raise ValueError("transfers need at least two accounts")
    return domain.demo


def demo(app: Application, *, accounts: int = 100, transfers: int = 1000, seed: int = 1,
         batch_size: int = 200) -> Operation[DemoReport]:
    """Seed `accounts` entities and `transfers` steps of the domain's demo (module docstring)."""
    scenario = check_demo(app.domain, accounts, transfers)
    started = time.perf_counter()
    head_before = app.store.head()
    total = accounts + transfers
    outcomes: Counter[str] = Counter()
    batch: list[Command] = []
    commands = 0
    yield Progress(0, total, "seeding")
    for steps, step in enumerate(scenario(random.Random(seed), accounts, transfers), start=1):
        batch.extend(step)
        if len(batch) >= batch_size or steps == total:
            for outcome in app.dispatch_many(batch):
                outcomes[outcome.reason if isinstance(outcome, Rejected) else ""] += 1
            commands += len(batch)
            batch = []
            yield Progress(steps, total, "seeding")
    accepted = outcomes.pop("", 0)
    return DemoReport(seed, accounts, transfers, commands, accepted, dict(outcomes),
                      app.store.head() - head_before, time.perf_counter() - started)
