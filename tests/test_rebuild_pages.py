"""The rebuild's pages: position ranges read by the lean replay read where most events are
wanted and by the filtered read where few are, switching as the mix changes; either way the
rebuilt rows equal the live ones and every handled event is read once."""

from __future__ import annotations

import importlib

import pytest

from incident_core import Application
from incident_core.examples.bank import (
    DepositMoney,
    OpenAccount,
    RequestTransfer,
    bank_accounts,
    transfers,
)
from incident_core.operations import rebuild
from incident_core.progress import run_to_end

rebuild_module = importlib.import_module("incident_core.operations.rebuild")


def _mixed_history(app: Application) -> None:
    """Stretches of deposits (account events only) between stretches of transfers (whose
    sagas record account and transfer events alike)."""
    app.dispatch(OpenAccount(aggregate_id="A"))
    app.dispatch(OpenAccount(aggregate_id="B"))
    for stretch in range(3):
        for n in range(12):
            app.dispatch(DepositMoney(aggregate_id="AB"[n % 2], amount=n + 1))
        for n in range(4):
            assert app.dispatch(RequestTransfer(
                aggregate_id=f"T{stretch}-{n}", source_account_number="A",
                destination_account_number="B", amount=1)).ok


@pytest.mark.parametrize("page", [3, 7, 5000])
def test_rebuilt_rows_equal_live_whichever_read_each_page_takes(
        bank: Application, page: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild_module, "PAGE", page)
    _mixed_history(bank)
    live = {p.name: bank.store.projection_rows(p.spec) for p in (bank_accounts, transfers)}
    handled = {p.name: sum(1 for batch in bank.store.iter_events() for e in batch
                           if p.handles(e.event_type)) for p in (bank_accounts, transfers)}
    for name in live:
        report = run_to_end(rebuild(bank, [name]))
        assert report.events_read == handled[name] > 0
        assert report.projections[0].events_applied == handled[name]
    both = run_to_end(rebuild(bank, sorted(live)))
    assert both.events_read == bank.store.head()  # every bank event is handled by one
    assert {name: bank.store.projection_rows(p.spec)
            for name, p in (("bank_accounts", bank_accounts),
                            ("transfers", transfers))} == live
