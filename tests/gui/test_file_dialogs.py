"""The window's file dialogs never open the files they list: Qt's own dialog reads a
`store.db` to guess its type, and that open/close in this process drops SQLite's locks on
the store the window has open (another process then deletes its WAL)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QFileSystemModel
from pytestqt.qtbot import QtBot

from incident_core import Application
from incident_core.examples.bank import DepositMoney, OpenAccount, domain
from incident_gui.presentation.file_dialogs import no_sniffing_dialog
from incident_gui.window.store_dialogs import STORE_FILTER

OTHER = ("import sys\nfrom incident_core import Application\n"
         "from incident_core.examples.bank import DepositMoney, domain\n"
         "with Application.open(sys.argv[1], domain) as o:\n"
         "    assert o.dispatch(DepositMoney(aggregate_id='a', amount=1)).ok\n")


@pytest.mark.parametrize("name", ["store.db", "store"])
@pytest.mark.parametrize("saving", [False, True], ids=["open", "save"])
def test_listing_an_open_store_keeps_its_locks(qtbot: QtBot, tmp_path: Path, name: str,
                                               saving: bool) -> None:
    db = tmp_path / name
    with Application.open(str(db), domain, create=True) as app:
        assert app.dispatch(OpenAccount(aggregate_id="a")).ok
        dialog = no_sniffing_dialog(None, "Open a store", str(tmp_path), STORE_FILTER,
                                    saving=saving)
        qtbot.addWidget(dialog)
        dialog.setViewMode(QFileDialog.ViewMode.Detail)  # the type column too
        dialog.selectNameFilter("All files (*)")  # `store` listed too, not filtered out
        dialog.show()
        model = dialog.findChild(QFileSystemModel)
        assert model is not None
        qtbot.waitUntil(lambda: model.rowCount(model.index(str(tmp_path))) > 0)
        dialog.selectFile(str(db))
        qtbot.wait(500)  # the model's gatherer thread fetches icons and types meanwhile
        dialog.reject()
        done = subprocess.run([sys.executable, "-c", OTHER, str(db)], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert Path(f"{db}-wal").exists()  # the other process did not close "last"
        assert app.dispatch(DepositMoney(aggregate_id="a", amount=2)).ok
    with Application.open(str(db), domain, read_only=True) as again:
        assert again.store.head() == 3
