"""Date, time and date-time editors; a date-time carries a time zone (UTC, the machine's
local zone, or a named IANA zone), and an optional one has a Set box (unchecked: not given).
The zone combo box is named ``zone_<path>``, the Set box ``set_<path>``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QHBoxLayout,
    QTimeEdit,
    QWidget,
)

from incident_gui.widgets.form_editors import Editor
from incident_gui.widgets.form_fields import NOT_SET

__all__ = ["TemporalEditor"]

_ZONES = ("UTC", "Local", "Europe/London", "Europe/Paris", "Europe/Berlin",
          "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo",
          "Asia/Kolkata", "Australia/Sydney")


def _zone(name: str) -> dt.tzinfo | None:
    if name == "UTC":
        return dt.UTC
    if name == "Local":
        return None  # the machine's rules, daylight saving included
    return ZoneInfo(name)


def _available_zones() -> list[str]:
    names = []
    for name in _ZONES:
        try:
            _zone(name)
        except ZoneInfoNotFoundError:
            continue
        names.append(name)
    return names


class TemporalEditor(Editor):
    """A date-time (with a time zone), date or time editor; optional ones have a Set box."""

    def _build(self) -> QWidget:
        kind = self.spec.kind
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self._set: QCheckBox | None = None
        if not self.spec.required:
            self._set = QCheckBox("Set", self.container)
            self._set.setObjectName(f"set_{self.name}")
            self._set.setToolTip("Unchecked: not given (the default applies)")
            row.addWidget(self._set)
        self._edit = (QDateTimeEdit if kind == "datetime" else
                      QDateEdit if kind == "date" else QTimeEdit)(self.container)
        self._edit.setDisplayFormat({"datetime": "yyyy-MM-dd HH:mm:ss", "date": "yyyy-MM-dd",
                                     "time": "HH:mm:ss"}[kind])
        self._edit.setCalendarPopup(kind != "time")
        row.addWidget(self._edit, 1)
        self._zone: QComboBox | None = None
        if kind == "datetime":
            self._zone = QComboBox(self.container)
            self._zone.setObjectName(f"zone_{self.name}")
            self._zone.setToolTip("The time zone of the date and time")
            self._zone.addItems(_available_zones())
            row.addWidget(self._zone)
        self.column.addLayout(row)
        self._start()
        return self._edit

    def _start(self) -> None:
        default = self.spec.default
        if default is NOT_SET or default is None:
            self._show(dt.datetime.now(dt.UTC).replace(microsecond=0))
        else:
            self._show(default)
        if self._set is not None:
            self._set.setChecked(default is not NOT_SET and default is not None)
            self._edit.setEnabled(self._set.isChecked())
            self._set.toggled.connect(self._on_set)
        self._edit.dateTimeChanged.connect(lambda _value: self.changed())
        if self._zone is not None:
            self._zone.currentIndexChanged.connect(lambda _index: self.changed())

    def _on_set(self, checked: bool) -> None:
        self._edit.setEnabled(checked)
        self.changed()

    def _show(self, value: Any) -> None:
        if isinstance(value, str):
            value = _parse_iso(self.spec.kind, value)
        if isinstance(value, dt.datetime):
            zone = value.tzinfo
            key = getattr(zone, "key", "UTC" if value.utcoffset() == dt.timedelta(0) else "")
            if self._zone is not None and self._zone.findText(key) < 0:
                value, key = value.astimezone(dt.UTC), "UTC"
            if self._zone is not None:
                self._zone.setCurrentText(key)
            self._edit.setDate(QDate(value.year, value.month, value.day))
            self._edit.setTime(QTime(value.hour, value.minute, value.second))
        elif isinstance(value, dt.date):
            self._edit.setDate(QDate(value.year, value.month, value.day))
        elif isinstance(value, dt.time):
            self._edit.setTime(QTime(value.hour, value.minute, value.second))

    def value(self) -> Any:
        if self._set is not None and not self._set.isChecked():
            return NOT_SET
        date, time = self._edit.date(), self._edit.time()
        if self.spec.kind == "date":
            return dt.date(date.year(), date.month(), date.day()).isoformat()
        clock = dt.time(time.hour(), time.minute(), time.second())
        if self.spec.kind == "time":
            return clock.isoformat()
        naive = dt.datetime.combine(dt.date(date.year(), date.month(), date.day()), clock)
        zone = _zone(self._zone.currentText()) if self._zone is not None else dt.UTC
        return (naive.astimezone() if zone is None else naive.replace(tzinfo=zone)).isoformat()

    def set_value(self, value: Any) -> None:
        if self._set is not None:
            self._set.setChecked(value is not None)
        if value is not None:
            self._show(value)

    def date_time(self) -> QDateTime:
        return self._edit.dateTime()


def _parse_iso(kind: str, text: str) -> Any:
    parse = {"datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat,
             "time": dt.time.fromisoformat}[kind]
    try:
        return parse(text)
    except ValueError:
        return None
