"""The seed's race tests: concurrent writers on one aggregate, threads and OS processes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from incident_core import Application, Command
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
    bank_accounts,
    domain,
    transfers,
)

ROOT = Path(__file__).resolve().parent.parent


def balances(app: Application) -> dict[str, int]:
    return {r["aggregate_id"]: r["balance"] for r in app.store.projection_rows(bank_accounts.spec)}


def run_threads(apps: list[Application], commands: list[Command]) -> list[bool]:
    barrier = threading.Barrier(len(commands))
    results: list[bool] = [False] * len(commands)

    def work(i: int) -> None:
        barrier.wait()
        results[i] = apps[i % len(apps)].dispatch(commands[i]).ok

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(commands))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def run_processes(target: str, commands: list[Command]) -> list[dict[str, object]]:
    start_at = time.time() + 2.0  # every process is up and has opened the store by then
    procs = [subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "race_worker.py"), target,
         type(c).__name__, c.model_dump_json(), str(start_at)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        for c in commands]
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outputs.append(json.loads(out))
    return outputs


def five_withdrawals() -> list[Command]:
    return [WithdrawMoney(aggregate_id="A", amount=24) for _ in range(5)]


def five_transfers() -> list[Command]:
    return [RequestTransfer(aggregate_id=f"T{i}", source_account_number="A",
                            destination_account_number="B", amount=24) for i in range(5)]


def _seed(app: Application) -> None:
    app.dispatch(OpenAccount(aggregate_id="A"))
    app.dispatch(DepositMoney(aggregate_id="A", amount=100))
    app.dispatch(OpenAccount(aggregate_id="B"))


def _check_withdrawals(app: Application) -> None:
    kinds = [e.event_type for e in app.store.read_stream("A")]
    assert kinds.count("MoneyWithdrawn") == 4
    assert balances(app)["A"] == 4
    assert [e.version for e in app.store.read_stream("A")] == list(range(1, len(kinds) + 1))


def _check_transfers(app: Application) -> None:
    statuses = sorted(r["status"] for r in app.store.projection_rows(transfers.spec))
    assert statuses == ["cancelled", "completed", "completed", "completed", "completed"]
    assert balances(app) == {"A": 4, "B": 96}


@pytest.mark.parametrize("shared_app", [True, False], ids=["one-app", "app-per-thread"])
def test_five_concurrent_withdrawals_threads(store_target: str, shared_app: bool) -> None:
    first = Application.open(store_target, domain, create=True)
    apps = [first]
    if not shared_app and store_target != "memory:":  # a memory store lives in one object
        apps += [Application.open(store_target, domain) for _ in range(4)]
    _seed(first)
    results = run_threads(apps, five_withdrawals())
    assert results.count(True) == 4
    _check_withdrawals(first)
    for app in apps:
        app.close()


def test_five_concurrent_transfers_threads(store_target: str) -> None:
    app = Application.open(store_target, domain, create=True)
    _seed(app)
    results = run_threads([app], five_transfers())
    assert all(results)  # every request is accepted; the saga decides the outcome
    _check_transfers(app)
    app.close()


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["withdrawals", "transfers"])
def test_five_concurrent_writers_as_processes(shared_target: str, scenario: str) -> None:
    app = Application.open(shared_target, domain, create=True)
    _seed(app)
    commands = five_withdrawals() if scenario == "withdrawals" else five_transfers()
    outputs = run_processes(shared_target, commands)
    check: Callable[[Application], None]
    if scenario == "withdrawals":
        assert [o["ok"] for o in outputs].count(True) == 4
        assert [o["reason"] for o in outputs if not o["ok"]] == ["no_enough_balance"]
        check = _check_withdrawals
    else:
        assert all(o["ok"] for o in outputs)
        check = _check_transfers
    check(app)
    app.close()


def test_conflict_is_retried_then_reported(tmp_path: Path) -> None:
    """A writer that always loses the version race gives up after the bound."""
    target = str(tmp_path / "s.sqlite3")
    app = Application.open(target, domain, create=True)
    app.max_attempts = 3
    rival = Application.open(target, domain)
    rival.dispatch(OpenAccount(aggregate_id="A"))  # app has no cached state: it loads it
    original = app.decider.load
    calls = 0

    def stale_load(*args: object, **kwargs: object) -> tuple[int, object]:
        nonlocal calls
        calls += 1
        version, state = original(*args, **kwargs)  # type: ignore[arg-type]
        rival.dispatch(DepositMoney(aggregate_id="A", amount=1))  # wins the race every time
        return version, state

    app.decider.load = stale_load  # type: ignore[method-assign]
    result = app.dispatch(DepositMoney(aggregate_id="A", amount=5))
    assert result.ok is False and getattr(result, "reason", None) == "conflict"
    assert calls == 3
    assert [e.data.get("amount") for e in app.store.read_stream("A")[1:]] == [1, 1, 1]
    app.close()
    rival.close()
