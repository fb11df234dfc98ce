"""Discarding a branch deletes every file the store left beside it: a shared writer that
served the branch (a service opened it with `shared_writer=True`) leaves its lock there."""

from __future__ import annotations

from incident_core import Application
from incident_core.examples.bank import DepositMoney
from incident_core.examples.bank import domain as bank_domain
from tests.gui.test_branching import branch_at_selected


def test_discard_deletes_a_shared_writers_lock(make_window, bank_store, qtbot) -> None:
    window = make_window(bank_store)
    controller = branch_at_selected(window, qtbot, 40)
    made = controller.current
    with Application.open(str(made.path), bank_domain, shared_writer=True) as service:
        assert service.shared_writer is not None and service.shared_writer.serving
        assert service.dispatch(DepositMoney(aggregate_id="acc-001", amount=7)).ok
    folder = made.path.parent
    assert (folder / f"{made.path.name}.writer.lock").exists()
    controller.actions["actionDiscard"].trigger()
    assert window.session.target == bank_store and controller.current is None
    assert [p.name for p in folder.iterdir() if p.name.startswith(made.path.name)] == []
