"""Property tests: replay equals the live projection; versions stay contiguous under random
interleavings of writers."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

ACCOUNTS = ["a", "b", "c"]
account_ids = st.sampled_from([*ACCOUNTS, "ghost"])
amounts = st.integers(min_value=1, max_value=120)
commands = st.one_of(
    st.builds(OpenAccount, aggregate_id=account_ids),
    st.builds(DepositMoney, aggregate_id=account_ids, amount=amounts),
    st.builds(WithdrawMoney, aggregate_id=account_ids, amount=amounts),
    st.tuples(st.integers(0, 10**6), account_ids, account_ids, amounts)
    .filter(lambda t: t[1] != t[2])
    .map(lambda t: RequestTransfer(aggregate_id=f"t{t[0]}", source_account_number=t[1],
                                   destination_account_number=t[2], amount=t[3])),
)


def replayed_rows(app: Application, name: str) -> list[dict[str, Any]]:
    """Fold every event through the projection from scratch, in memory."""
    projection = app.projection(name)
    rows: dict[str, dict[str, Any]] = {}
    for batch in app.store.iter_events():
        for recorded in batch:
            if not projection.handles(recorded.event_type):
                continue
            event = domain.decode(recorded.event_type, recorded.data)
            key = projection.key_for(recorded, event)
            result = projection.step(rows.get(key), recorded, event)
            if isinstance(result, dict):
                rows[key] = result
    return [rows[k] for k in sorted(rows)]


def normalised(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: str(v) for k, v in r.items()} for r in rows]


def check_invariants(app: Application) -> None:
    for name in ("bank_accounts", "transfers"):
        live = app.store.projection_rows(app.projection(name).spec)
        assert normalised(live) == normalised(replayed_rows(app, name))
    positions = [e.position for b in app.store.iter_events() for e in b]
    assert positions == list(range(1, len(positions) + 1))
    for info in app.store.streams():
        versions = [e.version for e in app.store.read_stream(info.aggregate_id)]
        assert versions == list(range(1, info.version + 1)) and len(versions) == info.event_count
    for row in app.store.projection_rows(bank_accounts.spec):
        assert row["balance"] >= 0
    for row in app.store.projection_rows(transfers.spec):
        assert row["status"] in ("completed", "cancelled")


@settings(max_examples=40, deadline=None)
@given(st.lists(commands, max_size=30))
def test_replay_equals_live_projection_in_memory(cmds: list[Command]) -> None:
    app = Application.open("memory:", domain)
    for command in cmds:
        app.dispatch(command)
    check_invariants(app)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(commands, min_size=1, max_size=8), min_size=2, max_size=4))
def test_random_interleavings_of_sqlite_writers(per_writer: list[list[Command]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = str(Path(folder) / "s.sqlite3")
        setup = Application.open(target, domain, create=True)
        setup.dispatch_many([OpenAccount(aggregate_id=a) for a in ACCOUNTS])
        apps = [Application.open(target, domain) for _ in per_writer]
        barrier = threading.Barrier(len(per_writer))

        def run(app: Application, cmds: list[Command]) -> None:
            barrier.wait()
            for command in cmds:
                app.dispatch(command)

        threads = [threading.Thread(target=run, args=pair) for pair in zip(apps, per_writer,
                                                                             strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        check_invariants(setup)
        for app in [setup, *apps]:
            app.close()
