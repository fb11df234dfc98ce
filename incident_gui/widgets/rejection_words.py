"""A rejection's reason code in words: the domain's message, the engine's, or the code
de-snake-cased (shared by the command outcome and the cascade preview)."""

from __future__ import annotations

from collections.abc import Mapping

from incident_gui.widgets.form_fields import humanize

__all__ = ["ENGINE_WORDS", "describe_rejection"]

# Reasons the engine itself gives, for any domain; a domain's own reasons come from
# `Domain.rejection_messages`.
ENGINE_WORDS = {
    "wrong_aggregate_type": "That id belongs to a different kind of aggregate",
    "conflict": "Other writers kept changing this aggregate",
}


def describe_rejection(reason: str, detail: str = "",
                       messages: Mapping[str, str] | None = None) -> str:
    """A reason code in plain words: the domain's message, the engine's, or the code
    de-snake-cased; the rejection's detail follows in parentheses."""
    words = (messages or {}).get(reason) or ENGINE_WORDS.get(reason) or humanize(reason)
    return f"{words} ({detail})" if detail else words
