"""Editors that hold editors: a nested pydantic model (a sub-form in a group box) and a list
of models (rows you add, remove and reorder). `make_editor` picks the editor of a field.

A row's buttons are named ``up_<path>``, ``down_<path>`` and ``remove_<path>`` (the row's
path, e.g. ``legs[1]``); the list's add button ``add_<path>``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from incident_gui.widgets.form_editors import DictEditor, Editor, ScalarEditor
from incident_gui.widgets.form_fields import NOT_SET, FieldSpec, Path, field_spec, humanize
from incident_gui.widgets.form_temporal import TemporalEditor

__all__ = ["ModelEditor", "ModelListEditor", "add_labelled_row", "make_editor"]


def make_editor(spec: FieldSpec, path: Path, parent: QWidget) -> Editor:
    """The editor for one field at `path`."""
    if spec.kind == "model":
        return ModelEditor(spec, path, parent)
    if spec.kind == "model_list":
        return ModelListEditor(spec, path, parent)
    if spec.kind in ("datetime", "date", "time"):
        return TemporalEditor(spec, path, parent)
    if spec.kind == "dict":
        return DictEditor(spec, path, parent)
    return ScalarEditor(spec, path, parent)


def add_labelled_row(layout: QFormLayout, editor: Editor) -> None:
    """A label and its editor side by side; a sub-form or rows span the full width (their
    group box carries the label), so nesting does not push the form off the panel."""
    if isinstance(editor, ModelEditor):
        layout.addRow(editor.container)
        return
    label = QLabel(editor.spec.label, layout.parentWidget())
    label.setToolTip(editor.widget.toolTip())
    label.setBuddy(editor.widget)
    if isinstance(editor, ModelListEditor):
        layout.addRow(label)
        layout.addRow(editor.container)
    else:
        layout.addRow(label, editor.container)


class ModelEditor(Editor):
    """A nested model: its fields in a group box. An optional one is a checkable box
    (unchecked: not given)."""

    def _build(self) -> QWidget:
        model = self.spec.model
        assert model is not None
        box = QGroupBox(self.spec.label, self.container)
        self.box = box
        self.fields: dict[str, Editor] = {}
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for name, info in model.model_fields.items():
            editor = make_editor(field_spec(name, info), (*self.path, name), box)
            add_labelled_row(form, editor)
            editor.connect(self.changed)
            self.fields[name] = editor
        if not self.spec.required:
            box.setCheckable(True)
            box.setChecked(self.spec.default not in (None, NOT_SET))
            box.toggled.connect(lambda _checked: self.changed())
        if isinstance(self.spec.default, dict):
            self.set_value(self.spec.default)
        self.column.addWidget(box)
        return box

    def children(self) -> list[Editor]:
        return list(self.fields.values())

    def value(self) -> Any:
        if self.box.isCheckable() and not self.box.isChecked():
            return None if self.spec.optional else NOT_SET
        return {name: value for name, editor in self.fields.items()
                if (value := editor.value()) is not NOT_SET}

    def set_value(self, value: Any) -> None:
        if isinstance(value, BaseModel):
            value = value.model_dump()
        if self.box.isCheckable():
            self.box.setChecked(value is not None)
        for name, item in (value or {}).items():
            if name in self.fields:
                self.fields[name].set_value(item)

    def add_error(self, rest: Path, message: str) -> None:
        if rest and rest[0] in self.fields:
            self.fields[str(rest[0])].add_error(rest[1:], message)
        else:
            super().add_error(rest, message)


class ModelListEditor(Editor):
    """A list of models: one sub-form per row, with Add, and ↑ ↓ ✕ on each row."""

    def _build(self) -> QWidget:
        model = self.spec.model
        assert model is not None
        self.rows: list[ModelEditor] = []
        self._edited = False  # rows were added or removed: an empty list is then given
        self._box = QWidget(self.container)
        self._rows_layout = QVBoxLayout(self._box)
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        add = QPushButton(f"Add {humanize(model.__name__).lower()}", self.container)
        add.setObjectName(f"add_{self.name}")
        add.clicked.connect(self.add_row)
        self.column.addWidget(self._box)
        self.column.addWidget(add)
        if isinstance(self.spec.default, list) and self.spec.default:
            self._rebuild(list(self.spec.default))
        return self._box

    def children(self) -> list[Editor]:
        return list(self.rows)

    def _rebuild(self, values: list[Any]) -> None:
        for row in self.rows:
            row.container.setParent(None)
            row.container.deleteLater()
        self.rows = []
        for index, value in enumerate(values):
            self.rows.append(self._row(index, len(values), value))

    def _row(self, index: int, count: int, value: Any) -> ModelEditor:
        spec = FieldSpec(f"{self.spec.name}[{index}]", "model", True, False, NOT_SET,
                         model=self.spec.model)
        row = ModelEditor(spec, (*self.path, index), self._box)
        row.box.setTitle(f"{humanize(self.spec.name)} #{index + 1}")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for key, text, tip, enabled, slot in (
                ("up", "↑", "Move up", index > 0, lambda: self.move_row(index, -1)),
                ("down", "↓", "Move down", index < count - 1, lambda: self.move_row(index, 1)),
                ("remove", "✕", "Remove this row", True, lambda: self.remove_row(index))):
            button = QPushButton(text, row.container)
            button.setObjectName(f"{key}_{row.name}")
            button.setToolTip(tip)
            button.setEnabled(enabled)
            button.setMaximumWidth(button.fontMetrics().horizontalAdvance("MMM"))
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout = row.box.layout()
        assert isinstance(layout, QFormLayout)
        layout.insertRow(0, buttons)  # inside the row's box: clearly this row's buttons
        if value is not NOT_SET:
            row.set_value(value)
        row.connect(self.changed)
        self._rows_layout.addWidget(row.container)
        return row

    def _values(self) -> list[Any]:
        return [row.value() for row in self.rows]

    def add_row(self) -> None:
        self._edited = True
        self._rebuild([*self._values(), {}])
        self.changed()

    def remove_row(self, index: int) -> None:
        self._edited = True
        values = self._values()
        del values[index]
        self._rebuild(values)
        self.changed()

    def move_row(self, index: int, delta: int) -> None:
        values = self._values()
        other = index + delta
        if 0 <= other < len(values):
            values[index], values[other] = values[other], values[index]
            self._rebuild(values)
            self.changed()

    def value(self) -> Any:
        if not self.rows and not (self.spec.required and self._edited):
            return NOT_SET
        return self._values()

    def set_value(self, value: Any) -> None:
        self._rebuild(list(value or []))

    def add_error(self, rest: Path, message: str) -> None:
        if rest and isinstance(rest[0], int) and 0 <= rest[0] < len(self.rows):
            self.rows[rest[0]].add_error(rest[1:], message)
        else:
            super().add_error(rest, message)
