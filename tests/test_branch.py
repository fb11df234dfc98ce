"""What-if branches: a store holding the log up to N, commands on it, and the diff."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from incident_core import Accepted, Application, IncidentError, open_store
from incident_core.cli.main import main
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    WithdrawMoney,
    bank_accounts,
)
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.branch import branch, diff
from incident_core.progress import run_to_end


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def balances(app: Application) -> dict[str, int]:
    return {r["aggregate_id"]: r["balance"]
            for r in app.store.projection_rows(bank_accounts.spec)}


@pytest.fixture
def original(tmp_path: Path) -> tuple[Path, int]:
    """A bank store; returns its path and the head after the first transfer."""
    path = tmp_path / "original.sqlite3"
    with Application.open(str(path), bank_domain, create=True) as app:
        for name in ("A", "B"):
            app.dispatch(OpenAccount(aggregate_id=name))
        app.dispatch(DepositMoney(aggregate_id="A", amount=100))
        app.dispatch(RequestTransfer(aggregate_id="T1", source_account_number="A",
                                     destination_account_number="B", amount=30))
        cut = app.store.head()
        app.dispatch(WithdrawMoney(aggregate_id="A", amount=50))
    return path, cut


def test_a_branch_holds_the_log_up_to_n_and_its_projections(original, tmp_path) -> None:
    path, cut = original
    before = digest(path)
    out = tmp_path / "branch.sqlite3"
    with Application.open(str(path), bank_domain, read_only=True) as app:
        report = run_to_end(branch(app, str(out), at=cut))
        originals = [e.to_json() for batch in app.store.iter_events(up_to=cut)
                     for e in batch]
    assert report.events == cut
    assert digest(path) == before  # the original was only read
    with Application.open(str(out), bank_domain) as scratch:
        copied = [e.to_json() for batch in scratch.store.iter_events() for e in batch]
        assert copied == originals  # same ids, times, data, metadata and positions
        assert balances(scratch) == {"A": 70, "B": 30}  # as at N, not at the head
        assert scratch.store.checkpoints()["transfer_saga"] == cut
        # a command on the branch, and the difference from the original
        result = scratch.dispatch(DepositMoney(aggregate_id="B", amount=5))
        assert isinstance(result, Accepted)
    with open_store(str(path), read_only=True) as a, open_store(str(out),
                                                                read_only=True) as b:
        found = diff(a, b, bank_domain)
    assert digest(path) == before
    assert found.streams_changed == ["A", "B"] and not found.streams_only_a
    assert found.versions == {"A": (4, 3), "B": (2, 3)}
    assert [e["event_type"] for e in found.events_only_a] == ["MoneyWithdrawn"]
    assert [e["event_type"] for e in found.events_only_b] == ["MoneyDeposited"]
    changed = {c["key"]: c["columns"] for c in found.rows["bank_accounts"]["changed"]}
    assert changed["A"]["balance"] == {"before": 20, "after": 70}
    assert changed["B"]["balance"] == {"before": 30, "after": 35}
    assert found.rows["transfers"] == {"added": [], "removed": [], "changed": []}


def test_a_branch_needs_a_new_store_and_a_known_position(original, tmp_path) -> None:
    path, cut = original
    with Application.open(str(path), bank_domain, read_only=True) as app:
        with pytest.raises(IncidentError, match="not in this store"):
            run_to_end(branch(app, str(tmp_path / "x.sqlite3"), at=app.store.head() + 1))
        with pytest.raises(IncidentError, match="already holds events"):
            run_to_end(branch(app, str(path), at=cut))


def test_cli_branch_and_diff(original, tmp_path, capsys) -> None:
    path, cut = original
    before = digest(path)
    out = tmp_path / "branch.sqlite3"
    assert main(["branch", "--at", str(cut), str(out), "--db", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["at"], report["events"]) == (True, cut, cut)
    assert main(["diff", str(out), str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["same"] is True
    assert main(["diff", str(path), str(out)]) == 3
    found = json.loads(capsys.readouterr().out)
    assert found["streams"]["changed"] == ["A"] and not found["same"]
    assert digest(path) == before
    assert main(["branch", str(path), "--db", str(path)]) == 2
