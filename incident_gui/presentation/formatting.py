"""Text forms the inspector shows: one-line data summaries and local times (no Qt)."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any

__all__ = ["compact_json", "local_time", "plural", "pretty_json", "summarize", "utc_tooltip"]

SUMMARY_LIMIT = 160


def _short(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), default=str)


def summarize(data: dict[str, Any], limit: int = SUMMARY_LIMIT) -> str:
    """`key=value, key=value` on one line, cut with an ellipsis at `limit` characters."""
    text = ", ".join(f"{key}={_short(value)}" for key, value in data.items())
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_time(recorded_at_text: str) -> str:
    """A store time (ISO UTC) in the user's local time zone, to the millisecond."""
    try:
        moment = datetime.fromisoformat(recorded_at_text).astimezone()
    except ValueError:
        return recorded_at_text
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def utc_tooltip(recorded_at_text: str) -> str:
    """A tooltip: Qt renders one that looks like markup as rich text, so store text with
    markup characters is escaped inside an explicit span (shown as written, never run)."""
    if "<" in recorded_at_text or "&" in recorded_at_text:
        return f"UTC: <span>{escape(recorded_at_text)}</span>"
    return f"UTC: {recorded_at_text}"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False, default=str, ensure_ascii=False)


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 event`, `2 events`, `1,200 events` (`nouns` for irregular plurals)."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"
