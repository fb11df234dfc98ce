"""File dialogs that never open the files they list.

Qt's own file dialog guesses each listed file's type from its first bytes (QMimeDatabase,
for names its globs do not decide: `store.db`, `store`), opening and closing the file in
this process. For a store this window has open that close drops all of SQLite's POSIX locks
on it (see `incident_core/store/sql/open_files.py`): another process then deletes the WAL
this window still writes to. These dialogs name icons and types by the file name alone, and
use Qt's dialog (a native one ignores the icon provider and may sniff files itself).

Same signatures and results as `QFileDialog.getOpenFileName` / `getSaveFileName`.
"""

from __future__ import annotations

from typing import overload

from PySide6.QtCore import QFileInfo
from PySide6.QtGui import QAbstractFileIconProvider, QIcon
from PySide6.QtWidgets import QFileDialog, QFileIconProvider, QWidget

__all__ = ["get_open_file_name", "get_save_file_name", "no_sniffing_dialog"]


class _ByName(QFileIconProvider):
    """Icons and type names from the file's name and kind, never from its content."""

    @overload
    def icon(self, what: QAbstractFileIconProvider.IconType) -> QIcon: ...
    @overload
    def icon(self, what: QFileInfo) -> QIcon: ...

    def icon(self, what: QAbstractFileIconProvider.IconType | QFileInfo) -> QIcon:
        if isinstance(what, QFileInfo):
            kind = QAbstractFileIconProvider.IconType
            return super().icon(kind.Folder if what.isDir() else kind.File)
        return super().icon(what)

    def type(self, info: QFileInfo) -> str:
        if info.isDir():
            return "Folder"
        return f"{info.suffix().upper()} file" if info.suffix() else "File"


_provider: list[_ByName] = []  # one, made once a QApplication exists; never freed


def no_sniffing_dialog(parent: QWidget | None, caption: str, start: str, filters: str, *,
                       saving: bool) -> QFileDialog:
    """The dialog (not shown) that the two functions below run."""
    if not _provider:
        _provider.append(_ByName())
    dialog = QFileDialog(parent, caption, start, filters)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setIconProvider(_provider[0])
    if saving:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    return dialog


def _run(dialog: QFileDialog) -> tuple[str, str]:
    try:
        if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return "", ""
        return dialog.selectedFiles()[0], dialog.selectedNameFilter()
    finally:
        dialog.deleteLater()


def get_open_file_name(parent: QWidget | None, caption: str = "", start: str = "",
                       filters: str = "") -> tuple[str, str]:
    return _run(no_sniffing_dialog(parent, caption, start, filters, saving=False))


def get_save_file_name(parent: QWidget | None, caption: str = "", start: str = "",
                       filters: str = "") -> tuple[str, str]:
    return _run(no_sniffing_dialog(parent, caption, start, filters, saving=True))
