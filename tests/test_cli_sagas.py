"""The CLI around saga failures: exit 0 iff recorded, `incident sagas` (SQLite)."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import incident, ok

LONG = "B" * 201


def bank_with_a_parked_transfer(db: Path) -> dict[str, object]:
    ok("init", db=db)
    ok("dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}', db=db)
    ok("dispatch", "DepositMoney", "--data", '{"aggregate_id": "A", "amount": 100}', db=db)
    run = incident("dispatch", "RequestTransfer", "--data",
                   '{"aggregate_id": "T", "source_account_number": "A", '
                   f'"destination_account_number": "{LONG}", "amount": 5}}', db=db)
    assert run.code == 0, run.err
    assert "warning: saga step parked: transfer_saga on TransferInitiated" in run.err
    assert "For further information" not in run.err
    [step] = run.json["saga_failures"]
    assert run.json["ok"] is True and run.json["events"][0]["event_type"] == "TransferRequested"
    return dict(step)


def test_dispatch_is_exit_0_with_the_parked_step_and_the_store_stays_usable(
        tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    step = bank_with_a_parked_transfer(db)
    assert step["process_manager"] == "transfer_saga" and step["status"] == "parked"
    assert "aggregate_id" in str(step["error"])
    accepted = ok("dispatch", "DepositMoney", "--data", '{"aggregate_id": "A", "amount": 1}',
                  db=db)
    assert "saga_failures" not in accepted
    ok("rebuild", "--all", db=db)
    assert ok("sagas", db=db) == [{"name": "transfer_saga", "checkpoint": 6, "head": 6,
                                   "lag": 0, "parked": 1}]


def test_sagas_parked_retry_and_skip(tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    step = bank_with_a_parked_transfer(db)
    position = str(step["position"])
    assert [s["position"] for s in ok("sagas", "parked", db=db)] == [step["position"]]
    table = incident("sagas", "parked", "--format", "table", db=db)
    assert table.code == 0 and "TransferInitiated" in table.out
    retry = incident("sagas", "retry", "transfer_saga", position, db=db)
    assert retry.code == 5 and retry.json["step"]["attempts"] == 2
    missing = incident("sagas", "skip", "transfer_saga", "99", "--reason", "x", db=db)
    assert missing.code == 1 and "no parked step" in missing.err
    skipped = ok("sagas", "skip", "transfer_saga", position, "--reason", "bad id", db=db)
    assert skipped["step"]["status"] == "skipped"
    assert ok("sagas", "parked", db=db) == []
    [kept] = ok("sagas", "parked", "--all", db=db)
    assert kept["skip_reason"] == "bad id"


def test_values_beyond_the_store_are_usage_errors_naming_the_field(tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    ok("init", db=db)
    ok("dispatch", "OpenAccount", "--data", '{"aggregate_id": "A"}', db=db)
    run = incident("dispatch", "DepositMoney", "--data",
                   '{"aggregate_id": "A", "amount": 100000000000000000000}', db=db)
    assert run.code == 2 and "amount" in run.err
    ok("dispatch", "DepositMoney", "--data",
       f'{{"aggregate_id": "A", "amount": {2**63 - 1}}}', db=db)
    full = incident("dispatch", "DepositMoney", "--data", '{"aggregate_id": "A", "amount": 1}',
                    db=db)
    assert full.code == 2 and "balance" in full.err
    assert ok("dispatch", "WithdrawMoney", "--data", '{"aggregate_id": "A", "amount": 1}',
              db=db)["ok"]
    nan = incident("dispatch", "Post", "--domain", "tests.trust_domain:domain", "--data",
                   '{"aggregate_id": "6f1c1f51-8a3b-4b8e-9a57-5a4a4a0d8c11", '
                   '"legs": [{"account": "a", "amount": 1}, {"account": "b", "amount": 1, '
                   '"rate": "nan"}]}', db=tmp_path / "ledger.sqlite3")
    assert nan.code == 2 and "legs[1].rate" in nan.err


def test_dispatch_is_exit_0_when_its_sagas_cannot_run_after_the_commit(
        tmp_path: Path) -> None:
    ok("init", "--domain", "tests.trust_domain:domain", db=tmp_path / "ledger.sqlite3")
    run = incident("dispatch", "Post", "--domain", "tests.trust_domain:domain", "--data",
                   '{"aggregate_id": "6f1c1f51-8a3b-4b8e-9a57-5a4a4a0d8c11", '
                   '"legs": [{"account": "locked", "amount": 1}]}',
                   db=tmp_path / "ledger.sqlite3")
    assert run.code == 0, run.err
    assert "database is locked" in run.json["saga_error"]
    assert "warning: the command was recorded but its sagas did not run" in run.err
