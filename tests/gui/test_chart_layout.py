"""The activity chart's layout, computed without Qt: boxes as QRect would make them, legend
lines, "+k more", elision, labels inside the area and apart, ticks as fine as the buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations

from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, QRect

from incident_gui.presentation.chart_layout import (
    MIN_PLOT_HEIGHT,
    Box,
    ChartBoxes,
    Measure,
    chart_boxes,
    tick_texts,
)

CHAR, LINE = 7, 14  # a monospaced font: every character 7 pixels wide, lines 14 high


def elide(text: str, width: int) -> str:
    """Middle elision for the monospaced font, as QFontMetrics.elidedText does it."""
    if len(text) * CHAR <= width:
        return text
    keep = max(0, width // CHAR - 1)
    return text[:(keep + 1) // 2] + "…" + text[len(text) - keep // 2:] if keep else ""


MONO = Measure(LINE, CHAR, lambda text: len(text) * CHAR, elide)


def texts(layout: ChartBoxes) -> list[tuple[Box, str]]:
    return ([(box, text) for _, box, text, _ in layout.legend]
            + layout.y_labels + layout.x_labels)


def inside(box: Box, area: Box) -> bool:
    return (area.left <= box.left and box.right() <= area.right()
            and area.top <= box.top and box.bottom() <= area.bottom())


def apart(a: Box, b: Box) -> bool:
    return (a.right() < b.left or b.right() < a.left
            or a.bottom() < b.top or b.bottom() < a.top)


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-5, 80), st.integers(-5, 80),
       st.integers(-9, 9))
def test_a_box_means_what_the_same_qrect_means(left: int, top: int, width: int, height: int,
                                               dy: int) -> None:
    box, rect = Box(left, top, width, height), QRect(left, top, width, height)
    assert (box.right(), box.bottom()) == (rect.right(), rect.bottom())
    corners = Box.corners(left, top, left + width, top + height)
    assert corners == Box(left, top, width + 1, height + 1)
    assert QRect(QPoint(left, top), QPoint(left + width, top + height)) == QRect(
        corners.left, corners.top, corners.width, corners.height)
    shifted = box.shifted(dy)
    assert QRect(shifted.left, shifted.top, shifted.width, shifted.height) == \
        rect.translated(0, dy)
    assert QRect(0, 0, Box().width, Box().height) == QRect()


def test_types_fill_the_legend_lines_then_the_rest_is_counted() -> None:
    types = [f"Happened{i}" for i in range(12)]  # 9 characters: 77 pixels with the swatch
    area = Box(6, 6, 400, 200)
    one = chart_boxes(MONO, area, types, [3, 8], [], legend_lines=1)
    two = chart_boxes(MONO, area, types, [3, 8], [], legend_lines=2)
    for layout in (one, two):
        named = [name for _, _, _, name in layout.legend if name]
        [(swatch, box, more, name)] = [item for item in layout.legend if not item[3]]
        assert box.width == len(more) * CHAR
        assert named == types[:len(named)] and more == f"+{len(types) - len(named)} more"
        assert (swatch, name) == (Box(), "")
    lines = {box.top for _, box, _, _ in two.legend}
    assert len({box.top for _, box, _, _ in one.legend}) == 1 and len(lines) == 2
    assert two.plot.top - one.plot.top == LINE + 4  # one more legend line above the plot


def test_a_name_alone_on_its_line_is_elided_not_dropped() -> None:
    area = Box(6, 6, 228, 93)
    name = "AVeryLongEventTypeNameThatCannotPossiblyFitInTheLegend"
    layout = chart_boxes(MONO, area, [name], [1], [], legend_lines=1)
    [(_, box, text, kept)] = layout.legend
    assert kept == name and text.count("…") == 1 and inside(box, area)
    crowded = chart_boxes(MONO, area, [name, "Other"], [1], [], legend_lines=1)
    assert [(text.count("…"), kept) for _, _, text, kept in crowded.legend] == [
        (1, name), (0, "")]  # elided to leave room for "+1 more"


@given(st.integers(0, 30), st.integers(1, 40), st.integers(240, 900), st.integers(105, 320),
       st.integers(0, 10_000))
def test_texts_stay_inside_the_area_and_apart(types: int, buckets: int, width: int,
                                              height: int, busiest: int) -> None:
    area = Box(6, 6, width - 12, height - 12)
    start = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    ticks = tick_texts([start + timedelta(minutes=i) for i in range(buckets)])
    names = [f"SomethingHappenedNumber{i}" for i in range(types)]
    layout = chart_boxes(MONO, area, names, [busiest], ticks, legend_lines=1)
    for box, text in texts(layout):
        assert inside(box, area) and len(text) * CHAR <= box.width, text
    for (a, _), (b, _) in combinations(texts(layout), 2):
        assert apart(a, b)
    assert layout.plot.height >= MIN_PLOT_HEIGHT
    assert layout.axis_max >= busiest and layout.y_labels[0][1] == "0"


def test_ticks_are_as_fine_as_the_buckets() -> None:
    start = datetime(2026, 1, 5, 10, 0, 0, 250_000, tzinfo=UTC)
    local = start.astimezone()

    def first(step: timedelta, count: int = 3) -> str:
        return tick_texts([start + i * step for i in range(count)])[0]

    assert first(timedelta(milliseconds=100)) == local.strftime("%H:%M:%S") + ".250"
    assert first(timedelta(seconds=5)) == local.strftime("%H:%M:%S")
    assert first(timedelta(minutes=5)) == local.strftime("%H:%M")
    assert first(timedelta(hours=12)) == local.strftime("%b %d %H:%M")
    assert first(timedelta(days=2)) == local.strftime("%Y-%m-%d")
    assert first(timedelta(minutes=5), 1) == local.strftime("%H:%M:%S") + ".250"  # one bucket
    assert tick_texts([]) == []
