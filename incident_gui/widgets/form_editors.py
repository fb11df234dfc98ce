"""The editors of a generated form for single values: text and numbers, choices, UUIDs and
JSON objects (date / time / date-time: `form_temporal`; nested models and lists of models:
`form_nested`).

Every editor's input widget is named ``field_<path>`` and its error label
``error_<path>``, where the path is the field's place in the command (``amount``,
``sender.name``, ``legs[1].destination``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from incident_gui.widgets.form_fields import NOT_SET, FieldSpec, Path, path_text

__all__ = ["DictEditor", "Editor", "ScalarEditor"]

_PATTERNS = {
    "integer": r"\s*[-+]?\d*\s*",
    "decimal": r"\s*[-+]?\d*(\.\d*)?\s*",
    "float": r"\s*[-+]?(\d*(\.\d*)?([eE][-+]?\d*)?|inf|nan)\s*",
}
_KIND_WORDS = {"integer": "integer", "decimal": "decimal number", "float": "number",
               "uuid": "UUID", "json": "JSON value, e.g. [\"a\", \"b\"] or 3", "text": ""}


class Editor:
    """One field's editor: `container` holds its input widget(s) and its error label."""

    def __init__(self, spec: FieldSpec, path: Path, parent: QWidget) -> None:
        self.spec, self.path = spec, path
        self.container = QWidget(parent)
        self._callbacks: list[Callable[[], None]] = []
        self._messages: list[str] = []
        self.column = QVBoxLayout(self.container)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(2)
        self.widget = self._build()
        self.widget.setObjectName(f"field_{self.name}")
        self.widget.setToolTip(self.tooltip())
        self.error = QLabel(self.container)
        self.error.setObjectName(f"error_{self.name}")
        self.error.setWordWrap(True)
        self.error.hide()
        self.column.addWidget(self.error)

    @property
    def name(self) -> str:
        return path_text(self.path)

    def _build(self) -> QWidget:
        raise NotImplementedError

    def tooltip(self) -> str:
        spec = self.spec
        lines = [spec.description] if spec.description else []
        lines.append(f"{self.name}: {spec.kind}{' (required)' if spec.required else ''}")
        lines += [f"• {text}" for text in spec.constraints]
        return "\n".join(lines)

    def value(self) -> Any:
        """The input, or NOT_SET when it is left empty (the model's default applies)."""
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def connect(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def changed(self) -> None:
        for callback in self._callbacks:
            callback()

    def children(self) -> list[Editor]:
        return []

    def local_errors(self) -> list[tuple[Path, str]]:
        """Input the model never sees as such (text that is not JSON): (path, message)."""
        return [error for child in self.children() for error in child.local_errors()]

    def add_error(self, rest: Path, message: str) -> None:
        """Show `message` on the editor at `rest` below this one (here if there is none)."""
        self._messages.append(message)

    def clear_errors(self) -> None:
        self._messages = []
        for child in self.children():
            child.clear_errors()

    def show_errors(self) -> None:
        self.error.setText("\n".join(self._messages))
        self.error.setVisible(bool(self._messages))
        for child in self.children():
            child.show_errors()

    def error_labels(self) -> list[QLabel]:
        return [self.error, *(label for child in self.children()
                              for label in child.error_labels())]


class ScalarEditor(Editor):
    """Text, numbers, UUIDs (with a Generate button) and JSON in a line edit; booleans in a
    check box; Enum / Literal / optional-bool choices in a combo box."""

    def _build(self) -> QWidget:
        spec = self.spec
        widget: QWidget
        if spec.kind == "bool":
            box = QCheckBox(self.container)
            box.setChecked(bool(spec.default) if spec.default is not NOT_SET else False)
            box.toggled.connect(lambda _checked: self.changed())
            widget = box
        elif spec.kind == "choice":
            widget = self._combo()
        else:
            widget = self._line_edit()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(widget, 1)
        if spec.kind == "uuid":
            button = QPushButton("Generate", self.container)
            button.setObjectName(f"generate_{self.name}")
            button.setToolTip("Fill in a new random UUID")
            button.clicked.connect(self._generate)
            row.addWidget(button)
        self.column.addLayout(row)
        return widget

    def _line_edit(self) -> QLineEdit:
        edit = QLineEdit(self.container)
        edit.setPlaceholderText(self._placeholder())
        edit.setClearButtonEnabled(True)
        if self.spec.kind in _PATTERNS:
            pattern = QRegularExpression(_PATTERNS[self.spec.kind])
            edit.setValidator(QRegularExpressionValidator(pattern, edit))
        edit.textChanged.connect(lambda _text: self.changed())
        return edit

    def _combo(self) -> QComboBox:
        spec = self.spec
        combo = QComboBox(self.container)
        if spec.required:
            combo.addItem("Choose…", NOT_SET)
        elif spec.optional:
            combo.addItem("(not set)", None)
        for value in spec.choices:
            combo.addItem(str(value).lower() if isinstance(value, bool) else str(value), value)
        if spec.default is not NOT_SET:
            combo.setCurrentIndex(max(combo.findData(spec.default), 0))
        combo.currentIndexChanged.connect(lambda _index: self.changed())
        return combo

    def _placeholder(self) -> str:
        spec = self.spec
        parts = [p for p in [_KIND_WORDS[spec.kind], *spec.constraints[:2]] if p]
        if spec.default is not NOT_SET:
            parts.append("optional" if spec.default is None else f"default {spec.default}")
        return ", ".join(parts)

    def _generate(self) -> None:
        assert isinstance(self.widget, QLineEdit)
        self.widget.setText(str(uuid.uuid4()))
        self.widget.textEdited.emit(self.widget.text())

    def value(self) -> Any:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            return widget.currentData()
        assert isinstance(widget, QLineEdit)
        text = widget.text() if self.spec.kind == "text" else widget.text().strip()
        if text == "":
            return NOT_SET
        if self.spec.kind == "json":
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text

    def set_value(self, value: Any) -> None:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(widget.findData(value), 0))
        elif isinstance(widget, QLineEdit):
            json_text = self.spec.kind == "json" and not isinstance(value, str)
            widget.setText("" if value is None else
                           json.dumps(value) if json_text else str(value))


class DictEditor(Editor):
    """A JSON object, checked as you type (the path and the place of a syntax error)."""

    def _build(self) -> QWidget:
        edit = QPlainTextEdit(self.container)
        edit.setPlaceholderText('JSON object, e.g. {"key": "value"}'
                                + ("" if self.spec.required else " (optional)"))
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 4)
        if isinstance(self.spec.default, dict) and self.spec.default:
            edit.setPlainText(json.dumps(self.spec.default, indent=2))
        edit.textChanged.connect(self.changed)
        self.column.addWidget(edit)
        self._edit = edit
        return edit

    def _text(self) -> str:
        return self._edit.toPlainText().strip()

    def value(self) -> Any:
        text = self._text()
        if not text:
            return NOT_SET
        try:
            return json.loads(text)
        except ValueError:
            return text

    def local_errors(self) -> list[tuple[Path, str]]:
        text = self._text()
        if not text:
            return []
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return [(self.path, f"not valid JSON: {exc.msg} (line {exc.lineno}, "
                                f"column {exc.colno})")]
        return []

    def set_value(self, value: Any) -> None:
        self._edit.setPlainText("" if value is None else json.dumps(value, indent=2))
