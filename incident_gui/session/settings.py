"""What the inspector remembers between runs (QSettings): recent stores, window layout."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["ORGANIZATION", "Settings"]

ORGANIZATION = "Incident"
APPLICATION = "incident-inspector"
MAX_RECENT = 10


class Settings:
    """A thin typed layer over QSettings."""

    def __init__(self) -> None:
        self._qs = QSettings(ORGANIZATION, APPLICATION)

    def recent(self) -> list[str]:
        value = self._qs.value("recent", [])
        if isinstance(value, str):  # QSettings returns a lone string for one-item lists
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def add_recent(self, target: str) -> None:
        items = [target, *(r for r in self.recent() if r != target)][:MAX_RECENT]
        self._qs.setValue("recent", items)

    def remove_recent(self, target: str) -> None:
        self._qs.setValue("recent", [r for r in self.recent() if r != target])

    def clear_recent(self) -> None:
        self._qs.setValue("recent", [])

    def state(self, key: str) -> QByteArray | None:
        value = self._qs.value(f"layout/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_state(self, key: str, value: QByteArray) -> None:
        self._qs.setValue(f"layout/{key}", value)

    def sync(self) -> None:
        self._qs.sync()
