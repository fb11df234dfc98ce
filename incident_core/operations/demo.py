"""Seed the bank example through real commands, deterministically for a seed.

Accounts `acc-00001`… are opened with a first deposit; then every step requests a transfer
(ids drawn from the seed), now and then with a deposit or a withdrawal beside it. Some
transfers ask for more than the source holds (the saga cancels them), some go to an account
that does not exist (the saga reverts, then cancels them).

Commands are dispatched in batches, one transaction each, and the transfer saga runs after
every batch. Each batch is committed before progress is reported: stopping the generator (or
killing the process) leaves a consistent store holding the batches done so far; sagas left
half-way are finished by the next write.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from incident_core.domain import Command, Domain
from incident_core.engine.application import Application
from incident_core.examples.bank import DepositMoney, OpenAccount, RequestTransfer, WithdrawMoney
from incident_core.process import Rejected
from incident_core.progress import Operation, Progress

__all__ = ["DemoReport", "check_demo", "demo"]

BANK_COMMANDS = (OpenAccount, DepositMoney, WithdrawMoney, RequestTransfer)
OVERDRAWN_SHARE = 0.08  # transfers asking for more than any account holds
MISSING_SHARE = 0.05  # transfers to an account that was never opened


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


def check_demo(domain: Domain, accounts: int, transfers: int) -> None:
    """Raise ValueError unless the demo can run with these settings on this domain."""
    for ctype in BANK_COMMANDS:
        if domain.command_types.get(ctype.__name__) is not ctype:
            raise ValueError(f"the demo seeds the bank example domain; domain "
                             f"{domain.name!r} has no bank {ctype.__name__} command")
    if accounts < 0 or transfers < 0:
        raise ValueError("accounts and transfers cannot be negative")
    if transfers and accounts < 2:
        raise ValueError("transfers need at least two accounts")


def account_id(number: int) -> str:
    return f"acc-{number:05d}"


def _steps(rng: random.Random, accounts: int, transfers: int) -> Iterator[list[Command]]:
    """The commands of each step: one per account, then one per transfer."""
    ids = [account_id(n) for n in range(1, accounts + 1)]
    for aggregate_id in ids:
        yield [OpenAccount(aggregate_id=aggregate_id),
               DepositMoney(aggregate_id=aggregate_id, amount=rng.randint(100, 5000))]
    for _ in range(transfers):
        step: list[Command] = []
        roll = rng.random()
        if roll < 0.2:
            step.append(DepositMoney(aggregate_id=rng.choice(ids), amount=rng.randint(10, 2000)))
        elif roll < 0.3:
            step.append(WithdrawMoney(aggregate_id=rng.choice(ids),
                                      amount=rng.randint(10, 3000)))
        step.append(_transfer(rng, ids))
        yield step


def _transfer(rng: random.Random, ids: list[str]) -> RequestTransfer:
    source, destination = rng.sample(ids, 2)
    if rng.random() < MISSING_SHARE:
        destination = f"acc-missing-{rng.randrange(100_000):05d}"
    if rng.random() < OVERDRAWN_SHARE:
        amount = rng.randint(1_000_000, 2_000_000)
    else:
        amount = rng.randint(1, 1000)
    transfer_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return RequestTransfer(aggregate_id=transfer_id, source_account_number=source,
                           destination_account_number=destination, amount=amount)


def demo(app: Application, *, accounts: int = 100, transfers: int = 1000, seed: int = 1,
         batch_size: int = 200) -> Operation[DemoReport]:
    """Seed `accounts` accounts and `transfers` transfers; see the module docstring."""
    check_demo(app.domain, accounts, transfers)
    started = time.perf_counter()
    head_before = app.store.head()
    total = accounts + transfers
    outcomes: Counter[str] = Counter()
    batch: list[Command] = []
    commands = 0
    yield Progress(0, total, "seeding")
    for steps, step in enumerate(_steps(random.Random(seed), accounts, transfers), start=1):
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
