"""What the command panel shows after a preview or a dispatch: a short status and the
result as HTML (pure functions of the domain and the outcome; no widgets, no store)."""

from __future__ import annotations

import html

from incident_core import Accepted, Conflicted, Preview, Rejected
from incident_core.domain import Domain
from incident_gui.widgets.command_outcome import (
    DispatchOutcome,
    cascade_summary,
    heading,
    preview_html,
    recorded_html,
    rejection_html,
)

__all__ = ["command_doc", "dispatched_view", "failed_html", "preview_view"]

Shown = tuple[str, str]  # status, HTML body


def dispatched_view(domain: Domain, outcome: DispatchOutcome, red: str) -> Shown | None:
    """An accepted command with what it caused, a rejection or a conflict."""
    result = outcome.result
    if isinstance(result, Accepted):
        summary = cascade_summary(domain, result.events, outcome.cascade)
        body = heading(summary) + recorded_html(result.events)
        if outcome.cascade:
            body += "<p><b>Then, in the same correlation</b></p>"
            body += recorded_html(outcome.cascade)
        return summary.split(";")[0], body
    if isinstance(result, Rejected):
        return "Rejected", rejection_html("Rejected", result, domain.rejection_messages, red)
    if isinstance(result, Conflicted):
        return "Conflict", (
            f"<p><b style='color:{red}'>Conflict:</b> other writers kept changing "
            f"{html.escape(result.aggregate_id)}; gave up after {result.attempts} "
            "attempts.</p><p>Nothing was recorded. Try again.</p>")
    return None


def preview_view(domain: Domain, preview: Preview, red: str) -> Shown:
    """What the command would record, or why it would be rejected."""
    if preview.rejection is not None:
        return "Preview: would be rejected", (
            rejection_html("Would be rejected", preview.rejection, domain.rejection_messages,
                           red) + "<p>Preview only: nothing was recorded.</p>")
    return "Preview: nothing recorded", preview_html(domain, preview)


def failed_html(message: str, red: str) -> str:
    return (f"<p><b style='color:{red}'>Failed:</b> {html.escape(message)}</p>"
            "<p>Nothing was recorded.</p>")


def command_doc(domain: Domain, name: str) -> str:
    """The first paragraph of a command's docstring, on one line ("" if none)."""
    command = domain.command_types.get(name)
    doc = "" if command is None else command.__doc__ or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")
