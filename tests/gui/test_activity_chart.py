"""The activity chart: stacked bars per time bucket, legend, tooltip, palettes, layout."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from incident_core import Application
from incident_core.examples.bank import domain as bank_domain
from incident_gui.presentation.colors import color_for_event_type
from incident_gui.widgets.activity_chart import MIN_PLOT_HEIGHT, ActivityChart, nice_ceiling

LABELS = ["2026-01-05T10:00:00.000000+00:00", "2026-01-05T10:01:00.000000+00:00",
          "2026-01-05T10:02:00.000000+00:00", "2026-01-05T10:03:00.000000+00:00"]
COUNTS = {"MoneyDeposited": [3, 0, 5, 1], "AccountOpened": [2, 0, 0, 0],
          "MoneyWithdrawn": [1, 0, 9, 0]}


@pytest.fixture
def chart(qtbot: Any) -> ActivityChart:
    widget = ActivityChart()
    qtbot.addWidget(widget)
    widget.resize(600, 220)
    widget.set_data(LABELS, COUNTS)
    widget.show()
    return widget


def bar_point(chart: ActivityChart, index: int) -> QPoint:
    plot = chart.chart_layout().plot
    slot = plot.width() / chart.bucket_count()
    return QPoint(round(plot.left() + (index + 0.5) * slot), plot.bottom() - 2)


def test_types_are_stacked_most_frequent_first_with_their_colours(chart: ActivityChart) -> None:
    assert chart.event_types() == ["MoneyWithdrawn", "MoneyDeposited", "AccountOpened"]
    legend = [(text, name) for _, _, text, name in chart.chart_layout().legend]
    assert legend == [(n, n) for n in chart.event_types()]
    assert chart.color_of("MoneyDeposited") == color_for_event_type("MoneyDeposited")
    chart.set_type_colors({"MoneyDeposited": QColor("#123456")})
    assert chart.color_of("MoneyDeposited") == QColor("#123456")


def test_the_count_axis_ends_at_a_round_number(chart: ActivityChart) -> None:
    layout = chart.chart_layout()
    assert layout.axis_max == 20  # the busiest bucket holds 14 events
    assert [text for _, text in layout.y_labels] == ["0", "10", "20"]
    assert [nice_ceiling(v) for v in (0, 1, 3, 14, 99, 101, 4000, 7400)] == [
        1, 1, 5, 20, 100, 200, 5000, 10000]


def test_hover_tooltip_shows_the_bucket_time_and_counts(chart: ActivityChart,
                                                        qtbot: Any) -> None:
    point = bar_point(chart, 2)
    assert chart.bucket_at(point) == 2
    event = QHelpEvent(QEvent.Type.ToolTip, point, chart.mapToGlobal(point))
    QApplication.sendEvent(chart, event)
    text = QToolTip.text()
    assert text == chart.tooltip_text(2)
    lines = text.splitlines()
    assert lines[1:] == ["MoneyWithdrawn: 9", "MoneyDeposited: 5", "Total: 14 events"]
    assert " to " in lines[0] and lines[0].count(":") == 4
    assert chart.bucket_at(QPoint(1, 1)) == -1
    QToolTip.hideText()


def test_clicking_a_bar_gives_its_time_span(chart: ActivityChart, qtbot: Any) -> None:
    with qtbot.waitSignal(chart.sig_bucket_clicked) as blocker:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=bar_point(chart, 3))
    assert blocker.args == [LABELS[3], "2026-01-05T10:04:00.000000+00:00"]


@pytest.mark.parametrize("size", [None, QSize(480, 180), QSize(900, 320), QSize(260, 200)])
def test_no_text_is_clipped_or_overlapping(qtbot: Any, size: QSize | None) -> None:
    chart = ActivityChart()
    qtbot.addWidget(chart)
    many = {f"SomethingHappenedNumber{i}": [i, 2 * i, 0, 1] for i in range(12)}
    chart.set_data(LABELS, many)
    chart.resize(size or chart.minimumSizeHint())
    layout = chart.chart_layout()
    fm = chart.fontMetrics()
    for rect, text in layout.texts():
        assert chart.rect().contains(rect), (text, rect)
        assert fm.horizontalAdvance(text) <= rect.width(), text
    for (a, _), (b, _) in combinations(layout.texts(), 2):
        assert not a.intersects(b)
    assert layout.plot.height() >= MIN_PLOT_HEIGHT
    assert any(text.endswith("more") for _, text in layout.texts())


def test_a_long_type_name_is_elided_in_a_narrow_chart(qtbot: Any) -> None:
    chart = ActivityChart()
    qtbot.addWidget(chart)
    chart.resize(chart.minimumSizeHint())
    chart.set_data(LABELS[:1], {"AVeryLongEventTypeNameThatCannotPossiblyFitInTheLegend": [1]})
    [(_, rect, text, _name)] = chart.chart_layout().legend
    assert text.count("…") == 1 and chart.rect().contains(rect)


@pytest.mark.parametrize(("window", "base", "text"), [
    ("#efefef", "#ffffff", "#000000"),
    ("#202124", "#2b2c2f", "#e8eaed"),
])
def test_colours_come_from_the_palette(chart: ActivityChart, window: str, base: str,
                                       text: str) -> None:
    palette = QPalette(chart.palette())
    palette.setColor(QPalette.ColorRole.Window, QColor(window))
    palette.setColor(QPalette.ColorRole.Base, QColor(base))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
    chart.setPalette(palette)
    chart.set_data(LABELS, {"MoneyDeposited": [0, 0, 0, 4]})
    image = chart.grab().toImage()
    plot = chart.chart_layout().plot
    ratio = image.devicePixelRatio()
    empty = QPoint(plot.left() + 3, plot.top() + 3) * ratio
    assert image.pixelColor(empty).rgb() == QColor(base).rgb()
    deposited = color_for_event_type("MoneyDeposited").rgb()
    assert image.pixelColor(bar_point(chart, 3) * ratio).rgb() == deposited
    swatch = chart.chart_layout().legend[0][0].center() * ratio
    assert image.pixelColor(swatch).rgb() == deposited


def test_empty_data_says_so(qtbot: Any) -> None:
    chart = ActivityChart()
    qtbot.addWidget(chart)
    chart.set_data([], {})
    assert chart.bucket_count() == 0 and chart.chart_layout().legend == []
    assert not chart.grab().isNull()
    assert chart.minimumSizeHint().width() >= 200


def test_it_charts_a_store_histogram(qtbot: Any) -> None:
    app = Application.open("memory:", bank_domain, create=True)
    app.dispatch_data("OpenAccount", {"aggregate_id": "A"})
    for _ in range(3):
        app.dispatch_data("DepositMoney", {"aggregate_id": "A", "amount": 5})
    chart = ActivityChart()
    qtbot.addWidget(chart)
    chart.resize(500, 200)
    chart.set_data(*app.store.event_histogram(buckets=30))
    assert chart.bucket_count() == 30
    assert chart.event_types() == ["MoneyDeposited", "AccountOpened"]
    assert sum(int(chart.tooltip_text(i).splitlines()[-1].split()[1])
               for i in range(30)) == 4


def test_fine_buckets_get_millisecond_ticks(qtbot: Any) -> None:
    labels = [f"2026-01-05T10:00:00.{i * 1500:06d}+00:00" for i in range(40)]
    chart = ActivityChart()
    qtbot.addWidget(chart)
    chart.resize(700, 200)
    chart.set_data(labels, {"MoneyDeposited": [1] * 40})
    ticks = [text for _, text in chart.chart_layout().x_labels]
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks)
    assert all(len(text.split(".")[-1]) == 3 for text in ticks)
    span = chart.tooltip_text(1).splitlines()[0]
    assert ":00.001 to " in span and span.endswith(":00.003")
