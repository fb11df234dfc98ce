"""Discarding or saving a branch never deletes or moves its file while a store of this
program still has it open (a close that failed, a comparison still reading): that store
would go on writing to a deleted file."""

from __future__ import annotations

from pathlib import Path

from incident_core import open_store
from tests.gui.test_branching import branch_at_selected


def test_discard_keeps_a_branch_file_still_open_here(make_window, bank_store, qtbot) -> None:
    window = make_window(bank_store)
    controller = branch_at_selected(window, qtbot, 40)
    made = controller.current
    still = open_store(str(made.path))  # another holder of the branch in this process
    try:
        assert still.head() == 40  # connected: the window's close is not the last one
        controller.actions["actionDiscard"].trigger()
        assert made.path.exists() and Path(f"{made.path}-wal").exists()
        assert window.session.target == bank_store and controller.current is None
        assert still.head() == 40
    finally:
        still.close()


def test_save_as_does_not_move_a_branch_still_open_here(make_window, bank_store, qtbot,
                                                        tmp_path) -> None:
    window = make_window(bank_store)
    controller = branch_at_selected(window, qtbot, 10)
    made = controller.current
    saved = tmp_path / "what-if.sqlite3"
    still = open_store(str(made.path))
    try:
        assert not controller.save_as(saved)
        assert not saved.exists() and made.path.exists()
        assert window.session.target == str(made.path) and controller.current is made
    finally:
        still.close()
    assert controller.save_as(saved)  # once it is closed, it moves
    assert not made.path.exists()
    with open_store(str(saved), read_only=True) as store:
        assert store.head() == 10
