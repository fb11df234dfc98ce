"""Many writers at once, on every store several processes can share (SQLite file, PostgreSQL).

* Readers that follow the log by position see every position exactly once and in order,
  while eight writers append: a transaction with a lower position never becomes visible after
  one with a higher position.
* Eight OS processes dispatch 200 bank commands each over ten accounts: nothing is lost or
  doubled, balances are exactly what the accepted commands say, versions are contiguous and
  the projections equal a replay of the log.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application, EventStore, open_store
from incident_core.envelope import PendingEvent, format_time, utc_now
from incident_core.examples.bank import (
    AccountState,
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
    bank_accounts,
    domain,
    transfers,
)
from incident_core.process import Accepted
from incident_core.projections.definition import Delete

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 8
ACCOUNTS = [f"acc-{i}" for i in range(10)]


# -- readers following the log ---------------------------------------------------------------
def _pending(aggregate_id: str, version: int) -> PendingEvent:
    return PendingEvent(str(uuid.uuid4()), aggregate_id, "Thing", "Happened", version,
                        format_time(utc_now()), json.dumps({"v": version}),
                        '{"correlation_id":"c","causation_id":"c"}', 1, "c", "c")


def _append_many(target: str, writer: int, transactions: int, start: threading.Barrier) -> None:
    rng = random.Random(writer)
    versions: Counter[str] = Counter()
    with open_store(target) as store:
        start.wait()
        for _ in range(transactions):
            batch = []
            for _ in range(rng.randint(1, 3)):
                stream = f"w{writer}-{rng.randrange(4)}"
                versions[stream] += 1
                batch.append(_pending(stream, versions[stream]))
            with store.transaction() as tx:
                tx.append(batch)


class Follower:
    """Reads the log by position as fast as it can, recording every violation it sees."""

    def __init__(self, store: EventStore, *, live: bool) -> None:
        self.store = store
        self.live = live  # sleep in wait_for_change between reads, instead of spinning
        self.last = 0
        self.reads = 0
        self.problems: list[str] = []

    def follow(self, done: threading.Event) -> None:
        """Read until the writers are done (`done`) and every event has been seen."""
        while not self.problems:
            finished = done.is_set()  # set after the last commit: the head is final then
            if self.live and not finished:
                self.store.wait_for_change(self.last, timeout=0.5)
            self.check(self.store.read_events(after_position=self.last, limit=250))
            if finished and self.last == self.store.head():
                return

    def check(self, page: list[Any]) -> None:
        self.reads += 1
        for recorded in page:
            if recorded.position != self.last + 1:
                self.problems.append(f"after {self.last} came {recorded.position}")
                return
            self.last = recorded.position


@pytest.mark.slow
def test_followers_see_every_position_once_and_in_order(shared_target: str) -> None:
    open_store(shared_target, create=True).close()
    transactions = 60
    start = threading.Barrier(WRITERS + 1)
    writers = [threading.Thread(target=_append_many, args=(shared_target, w, transactions, start))
               for w in range(WRITERS)]
    for writer in writers:
        writer.start()
    done = threading.Event()
    with open_store(shared_target, read_only=True) as spinning, \
            open_store(shared_target, read_only=True) as sleeping:
        followers = [Follower(spinning, live=False), Follower(sleeping, live=True)]
        start.wait()
        threads = [threading.Thread(target=f.follow, args=(done,)) for f in followers]
        for thread in threads:
            thread.start()
        for writer in writers:
            writer.join(120)
        done.set()
        for thread in threads:
            thread.join(120)
        total = spinning.head()
        assert [f.problems for f in followers] == [[], []]
        assert [f.last for f in followers] == [total, total]
        assert spinning.event_count() == total and total >= WRITERS * transactions
        assert followers[0].reads > WRITERS  # it really read while the writers wrote


# -- many processes dispatching bank commands -----------------------------------------------------
def worker(target: str, index: int, commands: int, start_at: float) -> dict[str, Any]:
    """One writer process: `commands` random commands; report what was accepted."""
    rng = random.Random(index)
    report: dict[str, Any] = {"deposits": Counter(), "withdrawals": Counter(), "transfers": [],
                              "event_ids": [], "outcomes": Counter()}
    with Application.open(target, domain) as app:
        time.sleep(max(0.0, start_at - time.time()))
        for number in range(commands):
            account, amount = rng.choice(ACCOUNTS), rng.randint(1, 60)
            roll = rng.random()
            if roll < 0.5:
                command: Any = DepositMoney(aggregate_id=account, amount=amount)
            elif roll < 0.9:
                command = WithdrawMoney(aggregate_id=account, amount=amount)
            else:
                other = rng.choice([a for a in ACCOUNTS if a != account])
                command = RequestTransfer(aggregate_id=f"t-{index}-{number}",
                                          source_account_number=account,
                                          destination_account_number=other, amount=amount)
            result = app.dispatch(command)
            report["outcomes"][f"{type(command).__name__}:{type(result).__name__}"] += 1
            if isinstance(result, Accepted):
                report["event_ids"] += [e.event_id for e in result.events]
                if isinstance(command, DepositMoney):
                    report["deposits"][account] += amount
                elif isinstance(command, WithdrawMoney):
                    report["withdrawals"][account] += amount
                else:
                    report["transfers"].append(command.aggregate_id)
    return report


def _run_workers(target: str, commands: int) -> list[dict[str, Any]]:
    start_at = time.time() + 3.0  # every process has started and opened the store by then
    procs = [subprocess.Popen(
        [sys.executable, "-m", "tests.test_concurrency_many_writers", target, str(index),
         str(commands), str(start_at)], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for index in range(WRITERS)]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    return reports


def replay(app: Application) -> dict[str, dict[str, dict[str, Any]]]:
    """Every projection folded from the log in memory."""
    rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in domain.projections}
    for batch in app.store.iter_events():
        for recorded in batch:
            event = domain.decode(recorded.event_type, recorded.data, recorded.schema_version)
            for name, projection in domain.projections.items():
                if not projection.handles(recorded.event_type):
                    continue
                key = projection.key_for(recorded, event)
                result = projection.step(rows[name].get(key), recorded, event)
                if isinstance(result, Delete):
                    rows[name].pop(key, None)
                elif result is not None:
                    rows[name][key] = result
    return rows


def _expected_balances(reports: list[dict[str, Any]], seed: int,
                       moved: list[dict[str, Any]]) -> dict[str, int]:
    balance = dict.fromkeys(ACCOUNTS, seed)
    for report in reports:
        for account, amount in report["deposits"].items():
            balance[account] += amount
        for account, amount in report["withdrawals"].items():
            balance[account] -= amount
    for row in moved:
        balance[row["source_account_number"]] -= row["amount"]
        balance[row["destination_account_number"]] += row["amount"]
    return balance


@pytest.mark.slow
def test_eight_processes_keep_the_books(shared_target: str) -> None:
    seed = 100
    with Application.open(shared_target, domain, create=True) as app:
        app.dispatch_many([c for a in ACCOUNTS for c in (
            OpenAccount(aggregate_id=a), DepositMoney(aggregate_id=a, amount=seed))])
    reports = _run_workers(shared_target, commands=200)
    with Application.open(shared_target, domain) as app:
        assert app.run_process_managers() == 0  # every saga already finished
        store = app.store
        events = [e for batch in store.iter_events() for e in batch]
        head = store.head()
        outcomes = sum((Counter(r["outcomes"]) for r in reports), Counter())
        assert sum(outcomes.values()) == WRITERS * 200

        # Nothing lost or doubled: positions 1..head, each accepted event exactly once.
        assert [e.position for e in events] == list(range(1, head + 1))
        ids = Counter(e.event_id for e in events)
        assert max(ids.values()) == 1
        reported = [i for r in reports for i in r["event_ids"]]
        assert len(reported) == len(set(reported)) and set(reported) <= set(ids)
        kinds = Counter(e.event_type for e in events)
        assert kinds["MoneyDeposited"] == len(ACCOUNTS) + outcomes["DepositMoney:Accepted"]
        assert kinds["MoneyWithdrawn"] == outcomes["WithdrawMoney:Accepted"]
        accepted_transfers = [t for r in reports for t in r["transfers"]]
        assert kinds["TransferRequested"] == len(accepted_transfers) > 0

        # Versions contiguous per stream, and the stream table agrees.
        by_stream: dict[str, list[int]] = {}
        for e in events:
            by_stream.setdefault(e.aggregate_id, []).append(e.version)
        for aggregate_id, versions in by_stream.items():
            assert versions == list(range(1, len(versions) + 1)), aggregate_id
            info = store.stream(aggregate_id)
            assert info is not None
            assert (info.version, info.event_count) == (len(versions), len(versions))

        # Every transfer finished; balances are what the accepted commands say.
        transfer_rows = store.projection_rows(transfers.spec)
        assert sorted(r["aggregate_id"] for r in transfer_rows) == sorted(accepted_transfers)
        assert {r["status"] for r in transfer_rows} <= {"completed", "cancelled"}
        moved = [r for r in transfer_rows if r["status"] == "completed"]
        expected = _expected_balances(reports, seed, moved)
        rows = {r["aggregate_id"]: r["balance"] for r in store.projection_rows(bank_accounts.spec)}
        assert rows == expected
        for account in ACCOUNTS:
            state = app.state(account)
            assert state is not None and isinstance(state.state, AccountState)
            assert state.state.balance == expected[account]

        # The projections equal a replay of the log, and are caught up with it.
        folded = replay(app)
        for name, projection in domain.projections.items():
            live = {r[projection.key]: r for r in store.projection_rows(projection.spec)}
            assert live == folded[name], name
        assert set(store.checkpoints().values()) == {head}


def main() -> None:
    target, index, commands, start_at = sys.argv[1:5]
    report = worker(target, int(index), int(commands), float(start_at))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
