"""What-if branches through the real window: branch at N, a command on the branch, the
comparison with the original, discard and save — the original file never changes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from incident_core import Accepted, open_store
from incident_core.examples.bank import DepositMoney


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def branch_at_selected(window, qtbot, position: int):
    store = window.session.app.store
    [event] = store.read_events(after_position=position - 1, limit=1)
    window.show_event(event)
    controller = window.sagas.branches
    with qtbot.waitSignal(controller.sig_branched, timeout=20_000):
        controller.actions["actionBranch"].trigger()
    return controller


def test_branch_command_compare_discard(make_window, bank_store, qtbot) -> None:
    before = digest(bank_store)
    window = make_window(bank_store)
    head = window.session.app.store.head()
    controller = branch_at_selected(window, qtbot, 40)
    made = controller.current
    assert made.at == 40 and made.path.exists() and made.path.parent == Path(bank_store).parent
    assert window.session.target == str(made.path)
    assert window.session.app.store.head() == 40
    assert controller.badge.isVisible() and "BRANCH at #40" in controller.badge.text()
    # a command on the branch, from the window's session (what the forms dispatch to)
    result = window.session.app.dispatch(DepositMoney(aggregate_id="acc-001", amount=7))
    assert isinstance(result, Accepted)
    with qtbot.waitSignal(controller.sig_compared, timeout=20_000) as compared:
        controller.actions["actionCompare"].trigger()
    found = compared.args[0]
    assert "acc-001" in found.streams_changed
    assert [e["event_type"] for e in found.events_only_b] == ["MoneyDeposited"]
    assert len(found.events_only_a) == head - 40
    assert controller.dialog.isVisible()
    assert controller.dialog.groups["events_only_b"].text(0) == "Events only in the branch (1)"
    changed = controller.dialog.groups["rows:bank_accounts"]
    assert changed.childCount() > 0
    controller.actions["actionDiscard"].trigger()
    assert not made.path.exists()
    assert window.session.target == bank_store and controller.current is None
    assert not controller.badge.isVisible()
    assert digest(bank_store) == before


def test_save_a_branch_as_a_store(make_window, bank_store, qtbot, tmp_path) -> None:
    before = digest(bank_store)
    window = make_window(bank_store)
    controller = branch_at_selected(window, qtbot, 10)
    window.session.app.dispatch(DepositMoney(aggregate_id="acc-001", amount=7))
    saved = tmp_path / "what-if.sqlite3"
    assert controller.save_as(saved)
    assert window.session.target == str(saved) and controller.current is None
    with open_store(str(saved), read_only=True) as store:
        assert store.head() == 11
    assert digest(bank_store) == before
