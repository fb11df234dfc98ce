"""A progress bar that says the longest of its texts that fits its width, chosen again
whenever it is resized: a text chosen for the width the bar had when the progress arrived
is never left on a narrower bar (the style centres it and clips both ends: "1,234,567"
shown as ",234,56")."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QProgressBar, QWidget

__all__ = ["FittingProgressBar"]


class FittingProgressBar(QProgressBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextVisible(True)
        self._texts: list[str] = []

    def set_texts(self, texts: Sequence[str]) -> None:
        """Say the first of `texts` (longest first) that fits; the longest is the tip."""
        self._texts = list(texts)
        self.setToolTip(self._texts[0] if self._texts else "")
        self._fit()

    def room(self) -> int:
        """The width a text may take: the bar's, less a character's margin each side."""
        return self.contentsRect().width() - 2 * self.fontMetrics().averageCharWidth()

    def _fit(self) -> None:
        if not self._texts:
            return
        room, advance = self.room(), self.fontMetrics().horizontalAdvance
        self.setFormat(next((t for t in self._texts if advance(t) <= room), self._texts[-1]))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()
