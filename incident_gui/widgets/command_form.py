"""A form generated from a command's pydantic model, validated as you type.

One editor per field (see `form_editors` and `form_nested`), its input widget named
``field_<path>``: a line edit for text, integers, decimals, floats, UUIDs (with a
``generate_<path>`` button) and other JSON; a check box for booleans; a combo box for enums
and literals; date / time / date-time editors (with a time zone); a JSON box for dicts; a
group box for a nested model; rows (add, remove, reorder) for a list of models. Labels carry
a ``*`` for required fields, the field's description and constraints are tooltips and
placeholders.

On every edit the partial input is validated by the domain (`Domain.parse_command`) after a
short pause; each message appears in red under the editor it is about (``error_<path>``),
prefixed with the field's full path (``legs[1].destination: Input should be ...``), once the
field has been touched; whole-command errors (a model validator) go to ``commandFormError``.
An empty optional field means "not given" (its default, often None).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from incident_core.domain import Command, Domain
from incident_core.errors import InvalidCommand
from incident_gui.widgets.form_editors import Editor
from incident_gui.widgets.form_fields import (
    NOT_SET,
    FieldSpec,
    Path,
    error_color,
    field_spec,
    humanize,
    path_text,
)
from incident_gui.widgets.form_nested import add_labelled_row, make_editor

__all__ = ["CommandForm", "FieldSpec", "error_color", "field_spec", "humanize"]

VALIDATION_DELAY_MS = 200


class CommandForm(QWidget):
    """The input form of one command type; `command()` is the validated command or None."""

    sig_validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandForm")
        self._domain: Domain | None = None
        self._command_name: str | None = None
        self._editors: dict[str, Editor] = {}
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
                    keep_values: bool = False) -> None:
        """Show the fields of `command_name`, each at its own default (with `keep_values`,
        same-named fields keep what was typed: only for re-showing the same command)."""
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
            editor = make_editor(field_spec(name, info), (name,), self._fields)
            if kept.get(name, NOT_SET) is not NOT_SET:
                editor.set_value(kept[name])
            add_labelled_row(layout, editor)
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
        for label in [self._general, *(label for editor in self._editors.values()
                                       for label in editor.error_labels())]:
            label.setStyleSheet(f"color: {color};")

    # -- values -----------------------------------------------------------------------
    @property
    def command_name(self) -> str | None:
        return self._command_name

    def field_names(self) -> list[str]:
        return list(self._editors)

    def field_spec(self, name: str) -> FieldSpec | None:
        editor = self._editors.get(name)
        return editor.spec if editor is not None else None

    def values(self) -> dict[str, Any]:
        """The input as a dict for `parse_command` (empty fields left out)."""
        return {name: value for name, editor in self._editors.items()
                if (value := editor.value()) is not NOT_SET}

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
        self._command = None
        general: list[str] = []
        missing: list[str] = []
        for editor in self._editors.values():
            editor.clear_errors()
        local = [error for editor in self._editors.values()
                 for error in editor.local_errors()]
        if self._domain is not None and self._command_name is not None and not local:
            try:
                self._command = self._domain.parse_command(self._command_name, self.values())
            except InvalidCommand as exc:
                for detail in exc.details:
                    self._place(tuple(detail["loc"]), detail, general, missing)
        for path, message in local:
            self._route(path, f"{path_text(path)}: {message}", general)
        self._show_errors(general, missing)
        if (self._command is not None) != was_valid:
            self.sig_validity_changed.emit(self._command is not None)

    def _place(self, loc: Path, detail: dict[str, Any], general: list[str],
               missing: list[str]) -> None:
        """Route one validation error to the editor it is about (or the general label)."""
        top = str(loc[0]) if loc else ""
        if top in self._editors and detail["type"] == "missing" and top not in self._touched:
            missing.append(humanize(top) if len(loc) == 1 else path_text(loc))
            return
        message = _message(detail)
        self._route(loc, f"{path_text(loc)}: {message}" if loc else message, general)

    def _route(self, loc: Path, message: str, general: list[str]) -> None:
        editor = self._editors.get(str(loc[0])) if loc else None
        if editor is None:
            general.append(message)
        else:
            editor.add_error(loc[1:], message)

    def _show_errors(self, general: list[str], missing: list[str]) -> None:
        for editor in self._editors.values():
            editor.show_errors()
        self._general.setText("\n".join(general))
        self._general.setVisible(bool(general))
        self._hint.setText(f"Still needed: {', '.join(missing)}" if missing else "")
        self._hint.setVisible(bool(missing))
        self._apply_error_style()

    def field_error(self, path: str) -> str:
        """The message shown under the editor at `path` (`amount`, `legs[1].destination`;
        '' when none is shown)."""
        label = self.findChild(QLabel, f"error_{path}")
        return label.text() if label is not None and label.isVisibleTo(self) else ""


def _message(detail: dict[str, Any]) -> str:
    message = str(detail["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message
