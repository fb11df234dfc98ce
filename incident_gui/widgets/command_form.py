"""A form generated from a command's pydantic model, validated as you type.

One editor per field, named ``field_<name>``: a line edit for text, integers, decimals,
floats, UUIDs (with a ``generate_<name>`` button) and anything else (JSON or text); a check
box for booleans; a combo box for enums and literals. Labels carry a ``*`` for required
fields, the field's description and constraints are tooltips and placeholders.

On every edit the partial input is validated by the domain (`Domain.parse_command`) after a
short pause; each field's message appears in red under it (``error_<name>``) once the field
has been touched, and whole-command errors (a model validator) in ``commandFormError``.
An empty optional field means "not given" (its default, often None).
"""

from __future__ import annotations

import json
import types
import typing
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from functools import partial
from typing import Any, Literal

from pydantic.fields import FieldInfo
from PySide6.QtCore import QEvent, QRegularExpression, QTimer, Signal
from PySide6.QtGui import QColor, QPalette, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from incident_core.domain import Command, Domain
from incident_core.errors import InvalidCommand

__all__ = ["CommandForm", "FieldSpec", "error_color", "field_spec", "humanize"]

FieldKind = Literal["text", "integer", "decimal", "float", "bool", "choice", "uuid", "json"]
VALIDATION_DELAY_MS = 200
_NOT_SET = object()
_PATTERNS = {
    "integer": r"\s*[-+]?\d*\s*",
    "decimal": r"\s*[-+]?\d*(\.\d*)?\s*",
    "float": r"\s*[-+]?(\d*(\.\d*)?([eE][-+]?\d*)?|inf|nan)\s*",
}
_CONSTRAINTS = (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"))
_SCALARS: tuple[tuple[FieldKind, type], ...] = (
    ("bool", bool), ("integer", int), ("decimal", Decimal), ("float", float),
    ("uuid", uuid.UUID), ("text", str))


def humanize(name: str) -> str:
    """`source_account_number` → `Source account number`."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def error_color(palette: QPalette) -> QColor:
    """A red that reads on the palette's window colour (light or dark)."""
    dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    return QColor("#ff7b72") if dark else QColor("#c62828")


@dataclass(frozen=True)
class FieldSpec:
    """What the form needs to know about one command field."""

    name: str
    kind: FieldKind
    required: bool
    optional: bool  # None is an accepted value
    default: Any
    choices: tuple[Any, ...] = ()
    description: str = ""
    constraints: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return humanize(self.name) + (" *" if self.required else "")


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """(base type, accepts None, extra metadata) of an annotation."""
    optional, metadata = False, []
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else Any
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *metadata = typing.get_args(annotation)
    return annotation, optional, metadata


def _kind_of(base: Any) -> tuple[FieldKind, tuple[Any, ...]]:
    if typing.get_origin(base) is Literal:
        return "choice", typing.get_args(base)
    if isinstance(base, type):
        if issubclass(base, Enum):
            return "choice", tuple(member.value for member in base)
        for kind, python_type in _SCALARS:
            if issubclass(base, python_type):
                return kind, ()
    return "json", ()


def _constraints(kind: FieldKind, metadata: list[Any]) -> list[str]:
    out = []
    for item in metadata:
        for attr, sign in _CONSTRAINTS:
            if getattr(item, attr, None) is not None:
                out.append(f"{sign} {getattr(item, attr)}")
        low, high = getattr(item, "min_length", None), getattr(item, "max_length", None)
        if low is not None:
            out.append(f"at least {low} character{'s' if low != 1 else ''}")
        if high is not None:
            out.append(f"at most {high} characters")
        if getattr(item, "decimal_places", None) is not None:
            out.append(f"up to {item.decimal_places} decimal places")
        if getattr(item, "pattern", None) is not None:
            out.append(f"matching {item.pattern}")
    return out


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    """Describe one pydantic field for the form."""
    base, optional, extra = _unwrap(info.annotation)
    kind, choices = _kind_of(base)
    if kind == "bool" and optional:
        kind, choices = "choice", (True, False)
    default = _NOT_SET if info.is_required() else info.get_default(call_default_factory=False)
    if isinstance(default, Enum):
        default = default.value
    return FieldSpec(name, kind, info.is_required(), optional, default, choices,
                     info.description or "", _constraints(kind, [*info.metadata, *extra]))


class _FieldEditor:
    """The editor widget(s) of one field and how to read / write its value."""

    def __init__(self, spec: FieldSpec, parent: QWidget) -> None:
        self.spec = spec
        self.widget: QLineEdit | QCheckBox | QComboBox
        self.container = QWidget(parent)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.widget = self._make_editor()
        self.widget.setObjectName(f"field_{spec.name}")
        self.widget.setToolTip(self._tooltip())
        row.addWidget(self.widget, 1)
        if spec.kind == "uuid":
            button = QPushButton("Generate", self.container)
            button.setObjectName(f"generate_{spec.name}")
            button.setToolTip("Fill in a new random UUID")
            button.clicked.connect(self._generate)
            row.addWidget(button)
        self.error = QLabel(self.container)
        self.error.setObjectName(f"error_{spec.name}")
        self.error.setWordWrap(True)
        self.error.hide()
        column = QVBoxLayout(self.container)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.error)

    def _make_editor(self) -> QLineEdit | QCheckBox | QComboBox:
        spec = self.spec
        if spec.kind == "bool":
            box = QCheckBox(self.container)
            box.setChecked(bool(spec.default) if spec.default is not _NOT_SET else False)
            return box
        if spec.kind == "choice":
            return self._make_combo()
        edit = QLineEdit(self.container)
        edit.setPlaceholderText(self._placeholder())
        edit.setClearButtonEnabled(True)
        if spec.kind in _PATTERNS:
            pattern = QRegularExpression(_PATTERNS[spec.kind])
            edit.setValidator(QRegularExpressionValidator(pattern, edit))
        return edit

    def _make_combo(self) -> QComboBox:
        spec = self.spec
        combo = QComboBox(self.container)
        if spec.required:
            combo.addItem("Choose…", _NOT_SET)
        elif spec.optional:
            combo.addItem("(not set)", None)
        for value in spec.choices:
            combo.addItem(str(value).lower() if isinstance(value, bool) else str(value), value)
        if spec.default is not _NOT_SET:
            index = combo.findData(spec.default)
            combo.setCurrentIndex(max(index, 0))
        return combo

    def _placeholder(self) -> str:
        spec = self.spec
        kind_words = {"integer": "integer", "decimal": "decimal number", "float": "number",
                      "uuid": "UUID", "json": "JSON value", "text": ""}[spec.kind]
        parts = [p for p in [kind_words, *spec.constraints[:2]] if p]
        if spec.default is not _NOT_SET:
            parts.append("optional" if spec.default is None else f"default {spec.default}")
        return ", ".join(parts)

    def _tooltip(self) -> str:
        spec = self.spec
        lines = [spec.description] if spec.description else []
        lines.append(f"{spec.name}: {spec.kind}{' (required)' if spec.required else ''}")
        lines += [f"• {text}" for text in spec.constraints]
        return "\n".join(lines)

    def _generate(self) -> None:
        assert isinstance(self.widget, QLineEdit)
        self.widget.setText(str(uuid.uuid4()))
        self.widget.textEdited.emit(self.widget.text())

    def value(self) -> Any:
        """The field's input, or _NOT_SET when it is left empty (the model's default)."""
        widget = self.widget
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            return widget.currentData()
        text = widget.text()
        if self.spec.kind != "text":
            text = text.strip()
        if text == "":
            return _NOT_SET
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
        else:
            widget.setText("" if value is None else str(value))

    def connect(self, callback: typing.Callable[[], None]) -> None:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            widget.toggled.connect(lambda _checked: callback())
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(lambda _index: callback())
        else:
            widget.textChanged.connect(lambda _text: callback())


class CommandForm(QWidget):
    """The input form of one command type; `command()` is the validated command or None."""

    sig_validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandForm")
        self._domain: Domain | None = None
        self._command_name: str | None = None
        self._editors: dict[str, _FieldEditor] = {}
        self._touched: set[str] = set()
        self._command: Command | None = None
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATION_DELAY_MS)
        self._timer.timeout.connect(self.validate)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._fields = QWidget(self)
        self._layout.addWidget(self._fields)
        self._general = QLabel(self)
        self._general.setObjectName("commandFormError")
        self._general.setWordWrap(True)
        self._general.hide()
        self._layout.addWidget(self._general)
        self._hint = QLabel(self)
        self._hint.setObjectName("commandFormHint")
        self._hint.setWordWrap(True)
        self._hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._layout.addWidget(self._hint)
        self._layout.addStretch(1)

    # -- building ---------------------------------------------------------------------
    def set_command(self, domain: Domain | None, command_name: str | None, *,
                    keep_values: bool = True) -> None:
        """Show the fields of `command_name` (keeping the values of same-named fields
        unless `keep_values` is False)."""
        kept = {name: editor.value() for name, editor in self._editors.items()
                if keep_values}
        self._domain, self._command_name = domain, command_name
        self._editors, self._touched = {}, set()
        self._fields.setParent(None)  # out of the widget tree now, deleted later
        self._fields.deleteLater()
        self._fields = QWidget(self)
        self._layout.insertWidget(0, self._fields)
        layout = QFormLayout(self._fields)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        ctype = None if domain is None or command_name is None else (
            domain.command_types.get(command_name))
        for name, info in (ctype.model_fields.items() if ctype is not None else []):
            editor = _FieldEditor(field_spec(name, info), self._fields)
            if kept.get(name, _NOT_SET) is not _NOT_SET:
                editor.set_value(kept[name])
            label = QLabel(editor.spec.label, self._fields)
            label.setToolTip(editor.widget.toolTip())
            label.setBuddy(editor.widget)
            layout.addRow(label, editor.container)
            editor.connect(partial(self._on_edited, name))
            self._editors[name] = editor
        self._apply_error_style()
        self.validate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_error_style()
        super().changeEvent(event)

    def _apply_error_style(self) -> None:
        color = error_color(self.palette()).name()
        for label in [self._general, *(e.error for e in self._editors.values())]:
            label.setStyleSheet(f"color: {color};")

    # -- values -----------------------------------------------------------------------
    @property
    def command_name(self) -> str | None:
        return self._command_name

    def field_names(self) -> list[str]:
        return list(self._editors)

    def values(self) -> dict[str, Any]:
        """The input as a dict for `parse_command` (empty fields left out)."""
        return {name: value for name, editor in self._editors.items()
                if (value := editor.value()) is not _NOT_SET}

    def set_field_value(self, name: str, value: Any) -> None:
        """Fill a field programmatically (e.g. the aggregate id of the selected stream)."""
        editor = self._editors.get(name)
        if editor is not None:
            editor.set_value(value)
            self._touched.add(name)
            self.validate()

    # -- validation -------------------------------------------------------------------
    def _on_edited(self, name: str) -> None:
        self._touched.add(name)
        self._dirty = True
        self._timer.start()

    def command(self) -> Command | None:
        """The validated command for the current input (validating pending edits first)."""
        if self._dirty:
            self.validate()
        return self._command

    def is_valid(self) -> bool:
        return self.command() is not None

    def has_valid_input(self) -> bool:
        """Whether the last validation passed (without flushing a pending one)."""
        return self._command is not None

    def validate(self) -> None:
        self._timer.stop()
        self._dirty = False
        was_valid = self._command is not None
        errors: dict[str, list[str]] = {}
        self._command = None
        missing: list[str] = []
        if self._domain is not None and self._command_name is not None:
            try:
                self._command = self._domain.parse_command(self._command_name, self.values())
            except InvalidCommand as exc:
                for detail in exc.details:
                    loc = detail["loc"]
                    name = str(loc[0]) if loc and str(loc[0]) in self._editors else ""
                    if name and detail["type"] == "missing" and name not in self._touched:
                        missing.append(humanize(name))
                        continue
                    errors.setdefault(name, []).append(_message(detail))
        self._show_errors(errors, missing)
        if (self._command is not None) != was_valid:
            self.sig_validity_changed.emit(self._command is not None)

    def _show_errors(self, errors: dict[str, list[str]], missing: list[str]) -> None:
        for name, editor in self._editors.items():
            messages = errors.get(name)
            editor.error.setText("\n".join(messages or []))
            editor.error.setVisible(bool(messages))
        general = errors.get("", [])
        self._general.setText("\n".join(general))
        self._general.setVisible(bool(general))
        self._hint.setText(f"Still needed: {', '.join(missing)}" if missing else "")
        self._hint.setVisible(bool(missing))

    def field_error(self, name: str) -> str:
        """The message shown under a field ('' when none is shown)."""
        editor = self._editors[name]
        return editor.error.text() if editor.error.isVisibleTo(self) else ""


def _message(detail: dict[str, Any]) -> str:
    message = str(detail["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message
