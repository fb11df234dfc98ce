"""The bank's demo scenario: accounts opened with a first deposit, then transfers.

Every step after the openings requests a transfer (ids drawn from the seed), now and then
with a deposit or a withdrawal beside it. Some transfers ask for more than the source holds
(the saga cancels them), some go to an account that does not exist (the saga reverts, then
cancels them).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

from incident_core.domain import Command
from incident_core.examples.bank.accounts import DepositMoney, OpenAccount, WithdrawMoney
from incident_core.examples.bank.transfers import RequestTransfer

OVERDRAWN_SHARE = 0.08  # transfers asking for more than any account holds
MISSING_SHARE = 0.05  # transfers to an account that was never opened


def account_id(number: int) -> str:
    return f"acc-{number:05d}"


def bank_demo(rng: random.Random, accounts: int, transfers: int) -> Iterator[list[Command]]:
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
