"""`incident lineage`: a row's history and the rows an event changed, through the CLI."""

from __future__ import annotations

from pathlib import Path

from incident_core.examples.bank import RequestTransfer
from tests.test_cli import incident, ok


def _bank(db: Path) -> None:
    ok("init", db=db)
    for account in ("A", "B"):
        ok("dispatch", "OpenAccount", "--data", f'{{"aggregate_id": "{account}"}}', db=db)
    ok("dispatch", "DepositMoney", "--data", '{"aggregate_id": "A", "amount": 100}', db=db)
    ok("dispatch", "RequestTransfer", "--data",
       '{"aggregate_id": "T", "source_account_number": "A", '
       '"destination_account_number": "B", "amount": 30}', db=db)


def test_lineage_of_a_transferred_to_account(tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    _bank(db)
    history = ok("lineage", "bank_accounts", "B", db=db)
    assert [(h["event_type"], h["kind"], (h["before"] or {}).get("balance"),
             h["after"]["balance"]) for h in history] == [
        ("AccountOpened", "created", None, 0), ("MoneyReceived", "changed", 0, 30)]
    table = incident("lineage", "bank_accounts", "B", "--format", "table", db=db)
    assert table.code == 0 and "balance: 0 → 30" in table.out
    rows = ok("lineage", "--event", str(history[-1]["position"]), db=db)
    assert [(r["projection"], r["row_key"]) for r in rows] == [("bank_accounts", "B")]
    assert ok("lineage", "--event", history[-1]["event_id"], db=db) == rows


def test_lineage_errors_are_one_line_with_their_exit_code(tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    _bank(db)
    missing = incident("lineage", "bank_accounts", "nobody", db=db)
    assert missing.code == 1 and "no lineage recorded" in missing.err
    unknown = incident("lineage", "nope", "B", db=db)
    assert unknown.code == 1 and "unknown projection" in unknown.err
    usage = incident("lineage", "bank_accounts", db=db)
    assert usage.code == 2 and len(usage.err.strip().splitlines()) == 1


def test_an_incomplete_lineage_is_one_line_until_a_rebuild(tmp_path: Path) -> None:
    from incident_core import Application
    from incident_core.examples.bank import domain as bank_domain
    from tests.lineage_reference import FLOWS, flows_projection, with_projection

    db = tmp_path / "bank.sqlite3"
    _bank(db)
    with Application.open(str(db), with_projection(bank_domain, flows_projection(
            lineage=False))) as quiet:  # custom-key events not indexed meanwhile
        assert quiet.dispatch(RequestTransfer(aggregate_id="T2", source_account_number="A",
                                              destination_account_number="B", amount=1)).ok
    domain = ("--domain", "tests.lineage_reference:FLOWS")
    refused = incident("lineage", "transfer_flows", "T2", *domain, db=db)
    assert refused.code != 0 and len(refused.err.strip().splitlines()) == 1, refused.err
    assert "rebuild transfer_flows" in refused.err
    ok("rebuild", "transfer_flows", *domain, db=db)
    history = ok("lineage", "transfer_flows", "T2", *domain, db=db)
    assert [e["event_type"] for e in history] == ["MoneySent", "MoneyReceived"]
    assert FLOWS.projections["transfer_flows"].lineage
