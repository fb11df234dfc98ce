"""The rebuild's progress bar says the longest text that fits, also after a resize."""

from __future__ import annotations

from typing import Any

from incident_core.progress import Progress
from incident_gui.presentation.progress_text import progress_texts
from incident_gui.widgets.fitting_progress import FittingProgressBar

TEN_MILLION = progress_texts("all projections", Progress(9_876_543, 10_011_248), 61_234.0)


def _fits(bar: FittingProgressBar) -> bool:
    return bar.fontMetrics().horizontalAdvance(bar.format()) <= bar.room()


def test_a_resize_chooses_the_text_again(qtbot: Any) -> None:
    bar = FittingProgressBar()
    qtbot.addWidget(bar)
    bar.resize(900, 24)
    bar.show()
    bar.set_texts(TEN_MILLION)
    assert bar.format() == TEN_MILLION[0] and bar.toolTip() == TEN_MILLION[0]
    seen = {bar.format()}
    for width in (600, 300, 220, 160, 90, 300, 900):  # narrower then wider, no progress
        bar.resize(width, 24)
        qtbot.waitUntil(lambda width=width: bar.width() == width)
        assert _fits(bar), (width, bar.format())
        seen.add(bar.format())
        longer = TEN_MILLION[:TEN_MILLION.index(bar.format())]
        assert all(bar.fontMetrics().horizontalAdvance(t) > bar.room() for t in longer)
    assert len(seen) >= 3 and bar.format() == TEN_MILLION[0]


def test_with_no_room_it_says_the_shortest(qtbot: Any) -> None:
    bar = FittingProgressBar()
    qtbot.addWidget(bar)
    bar.resize(10, 24)
    bar.show()
    bar.set_texts(TEN_MILLION)
    assert bar.format() == TEN_MILLION[-1] == "99%"
