"""The column fitter measures the rows in view only, and the rows scrolled into view."""

from __future__ import annotations

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTableView

from incident_gui.widgets.column_fit import ColumnFitter

LONG = "123456789012345678"


def _table(qtbot, rows: int) -> tuple[QTableView, QStandardItemModel]:
    model = QStandardItemModel(rows, 2)
    for row in range(rows):
        model.setItem(row, 0, QStandardItem("1"))
        model.setItem(row, 1, QStandardItem("x"))
    view = QTableView()
    view.setModel(model)
    view.resize(300, 300)
    ColumnFitter(view, numeric=(0,), columns=(0,))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def test_a_value_in_view_widens_its_column_at_once(qtbot):
    view, model = _table(qtbot, 500)
    model.item(0, 0).setText(LONG)
    assert view.columnWidth(0) >= view.fontMetrics().horizontalAdvance(LONG)


def test_a_value_out_of_view_is_measured_when_it_is_scrolled_into_view(qtbot):
    view, model = _table(qtbot, 500)
    before = view.columnWidth(0)
    model.item(450, 0).setText(LONG)
    assert view.columnWidth(0) == before  # not measured while out of view
    view.scrollTo(model.index(450, 0))
    qtbot.waitUntil(lambda: view.rowAt(0) > 300)
    assert view.columnWidth(0) >= view.fontMetrics().horizontalAdvance(LONG)
