"""Schema 6: a checkpoint at the head is stored as FOLLOWS, so a command writes no
checkpoint row, and what readers see is still exactly what the log says. After random
dispatches, rejections, group-commit batches, rebuilds, a projection switched off (a writer
whose domain lacks it) and on again, another process writing and reopens, on SQLite and
PostgreSQL: every checkpoint reads the same inside and outside a write transaction, and
every projection's rows equal the log folded up to its checkpoint."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from incident_core import Application
from incident_core.domain import Domain
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
)
from incident_core.examples.bank import domain as bank
from incident_core.operations.rebuild import rebuild
from incident_core.progress import run_to_end
from incident_core.store.sql.queries import FOLLOWS

ROOT = Path(__file__).parent.parent
ACCOUNTS = ["A", "B", "C", "D", "E"]
# The bank without its transfers projection and saga: a writer with them switched off.
WITHOUT = Domain("bank", aggregates=list(bank.aggregates.values()),
                 projections=[bank.projections["bank_accounts"]])


def command(rng: random.Random) -> Any:
    kind = rng.choice(["open", "deposit", "deposit", "withdraw", "transfer"])
    account = rng.choice(ACCOUNTS)
    if kind == "open":  # rejected when it is open already
        return OpenAccount(aggregate_id=account)
    if kind == "deposit":
        return DepositMoney(aggregate_id=account, amount=rng.randint(1, 50))
    if kind == "withdraw":  # rejected beyond the balance
        return WithdrawMoney(aggregate_id=account, amount=rng.randint(1, 80))
    other = rng.choice([a for a in ACCOUNTS if a != account])
    return RequestTransfer(aggregate_id=f"T{rng.randrange(10**6)}", source_account_number=account,
                           destination_account_number=other, amount=rng.randint(1, 60))


def batch(app: Application, rng: random.Random) -> None:
    """Concurrent dispatches: group commit puts them in shared transactions."""
    threads = [threading.Thread(target=app.dispatch, args=(command(rng),)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def other_process(target: str, n: int) -> None:
    code = ("import sys\nfrom incident_core import Application\n"
            "from incident_core.examples.bank import DepositMoney, domain\n"
            "with Application.open(sys.argv[1], domain) as app:\n"
            "    for i in range(int(sys.argv[2])):\n"
            "        app.dispatch(DepositMoney(aggregate_id='ABCDE'[i % 5], amount=3))\n")
    done = subprocess.run([sys.executable, "-c", code, target, str(n)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def assert_checkpoints_equal_the_log(app: Application) -> None:
    store = app.store
    head, checkpoints = store.head(), store.checkpoints()
    assert all(0 <= p <= head for p in checkpoints.values())
    with store.transaction() as tx:  # the writer's view is the readers' view
        assert {name: tx.checkpoint(name) for name in checkpoints} == checkpoints
    events = [e.to_json() for e in store.read_events(limit=10**6)]
    for projection in app.domain.projections.values():
        at = checkpoints[projection.name]
        with Application.open("memory:", bank, create=True) as fresh:
            fresh.import_events([e for e in events if e["position"] <= at])
            assert store.projection_rows(projection.spec) == \
                fresh.store.projection_rows(projection.spec), (projection.name, at, head)


def step(app: Application, target: str, rng: random.Random) -> Application:
    action = rng.choice(["one"] * 5 + ["batch", "rebuild", "off", "process", "reopen"])
    if action == "one":
        app.dispatch(command(rng))
    elif action == "batch":
        batch(app, rng)
    elif action == "rebuild":
        run_to_end(rebuild(app, [rng.choice(list(app.domain.projections))]))
    elif action == "off":  # transfers and the saga switched off: left behind, really
        with Application.open(target, WITHOUT) as other:
            for _ in range(rng.randint(1, 4)):
                other.dispatch(command(rng))
            assert_checkpoints_equal_the_log(other)
    elif action == "process":
        other_process(target, 4)
    else:
        app.close()
        app = Application.open(target, bank)
    return app


@pytest.mark.parametrize("seed", [1, 2])
def test_checkpoints_read_exactly_what_the_log_says(shared_target: str, seed: int) -> None:
    rng = random.Random(seed)
    app = Application.open(shared_target, bank, create=True)
    try:
        for account in ACCOUNTS:
            assert app.dispatch(OpenAccount(aggregate_id=account)).ok
        for _ in range(30):
            app = step(app, shared_target, rng)
            assert_checkpoints_equal_the_log(app)
        app.dispatch(DepositMoney(aggregate_id="A", amount=1))  # everything caught up
        assert set(app.store.checkpoints().values()) == {app.store.head()}
        assert_checkpoints_equal_the_log(app)
    finally:
        app.close()


def test_a_command_leaves_its_checkpoints_following_the_head(tmp_path: Path) -> None:
    """Stored: FOLLOWS (no write per command); a writer without a projection writes that
    projection's real position once, and the projection catches up when it is back."""
    import sqlite3

    db = str(tmp_path / "s.sqlite3")

    def stored() -> dict[str, int]:
        with sqlite3.connect(db) as conn:
            return dict(conn.execute("SELECT name, position FROM incident_checkpoints"))

    with Application.open(db, bank, create=True) as app:
        assert app.dispatch(OpenAccount(aggregate_id="A")).ok
        assert app.dispatch(DepositMoney(aggregate_id="A", amount=5)).ok
        head = app.store.head()
    assert set(stored().values()) == {FOLLOWS}
    with Application.open(db, WITHOUT) as other:
        assert other.dispatch(DepositMoney(aggregate_id="A", amount=1)).ok
        assert other.store.checkpoints() == {"bank_accounts": head + 1, "transfers": head,
                                             "transfer_saga": head}
    assert stored() == {"bank_accounts": FOLLOWS, "transfers": head, "transfer_saga": head}
    with Application.open(db, bank) as app:
        assert app.dispatch(DepositMoney(aggregate_id="A", amount=1)).ok
        assert set(app.store.checkpoints().values()) == {head + 2}
        assert_checkpoints_equal_the_log(app)
    assert set(stored().values()) == {FOLLOWS}


def test_migration_5_to_6_keeps_every_event_and_checkpoint(shared_target: str) -> None:
    """A schema-5 store (no FOLLOWS) reads as it is when opened read-only, and a writable
    open moves it to schema 6 keeping every event, id and checkpoint."""
    from incident_core.store.sql.meta import SCHEMA_VERSION
    from incident_core.store.sql.store import SqlEventStore
    from tests.schema_downgrade import downgrade_to_5

    rng = random.Random(5)
    with Application.open(shared_target, bank, create=True) as app:
        for account in ACCOUNTS:
            assert app.dispatch(OpenAccount(aggregate_id=account)).ok
        for _ in range(40):
            app.dispatch(command(rng))
        with Application.open(shared_target, WITHOUT) as other:  # some left behind
            other.dispatch(DepositMoney(aggregate_id="A", amount=2))
        events = app.store.read_events(limit=10**6)
        checkpoints = app.store.checkpoints()
        assert isinstance(app.store, SqlEventStore)
        downgrade_to_5(app.store)
    with Application.open(shared_target, bank, read_only=True) as old:
        assert old.store.schema_version == 5  # type: ignore[attr-defined]
        assert old.store.read_events(limit=10**6) == events
        assert old.store.checkpoints() == checkpoints
    with Application.open(shared_target, WITHOUT) as app:  # (bank would catch up on open)
        assert app.store.schema_version == SCHEMA_VERSION == 6  # type: ignore[attr-defined]
        assert app.store.read_events(limit=10**6) == events
        assert app.store.checkpoints() == checkpoints
    with Application.open(shared_target, bank) as app:
        assert_checkpoints_equal_the_log(app)
        assert app.dispatch(DepositMoney(aggregate_id="B", amount=1)).ok  # catches up
        assert set(app.store.checkpoints().values()) == {app.store.head()}
        assert_checkpoints_equal_the_log(app)


@pytest.mark.parametrize("read_only", [False, True])
def test_an_incident_of_schema_5_refuses_a_schema_6_store(shared_target: str, read_only: bool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """It would read FOLLOWS as position -1: the version check refuses the store first
    (`meta.check_meta`, here with schema 5's SCHEMA_VERSION), and leaves it as it was."""
    from incident_core.errors import NewerSchemaError
    from incident_core.store.sql import meta

    with Application.open(shared_target, bank, create=True) as app:
        assert app.dispatch(OpenAccount(aggregate_id="A")).ok
        head = app.store.head()
    monkeypatch.setattr(meta, "SCHEMA_VERSION", 5)
    with pytest.raises(NewerSchemaError, match="store schema 6, newer than this Incident"):
        Application.open(shared_target, bank, read_only=read_only)
    monkeypatch.undo()
    with Application.open(shared_target, bank, read_only=True) as app:
        assert app.store.checkpoints() == dict.fromkeys(bank.projections, head) | {
            "transfer_saga": head}
