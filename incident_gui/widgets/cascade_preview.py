"""The saga cascade of a preview, in words: "the transfer saga would then record 4 more on
3 aggregates", each event listed under its aggregate, then the saga commands that would be
rejected and the steps that would fail and be parked. Nothing of it was recorded (the
process managers ran over an in-memory overlay, see `incident_core.engine.cascade`)."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping

from incident_core.engine.cascade import Cascade
from incident_gui.presentation.colors import color_for_event_type
from incident_gui.presentation.formatting import plural, summarize
from incident_gui.widgets.rejection_words import describe_rejection

__all__ = ["cascade_html", "cascade_words"]


def _manager(name: str) -> str:
    return f"the {name.replace('_', ' ')}"


def cascade_words(cascade: Cascade) -> str:
    """One line: who would record how many events on how many aggregates."""
    if not cascade.events:
        text = "No process manager would record anything more"
    else:
        who = " and ".join(_manager(m) for m in Counter(cascade.recorded_by))
        text = (f"{who[0].upper()}{who[1:]} would then record {len(cascade.events):,} "
                f"more on {plural(len(cascade.by_aggregate()), 'aggregate')}")
    if cascade.rejections:
        text += f"; {plural(len(cascade.rejections), 'saga command')} would be rejected"
    if cascade.parked:
        text += f"; {plural(len(cascade.parked), 'saga step')} would fail and be parked"
    return text + (" (the preview stopped early)" if cascade.truncated else "")


def _swatch(event_type: str) -> str:
    color = color_for_event_type(event_type).name()
    return f"<span style='color:{color}'>■</span> <b>{html.escape(event_type)}</b>"


def cascade_html(cascade: Cascade, messages: Mapping[str, str] | None = None) -> str:
    """The cascade as HTML: the summary line, events grouped by aggregate (in recording
    order within each), rejections and parked steps."""
    body = f"<p><b>{html.escape(cascade_words(cascade))}</b></p>"
    for aggregate_id, events in cascade.by_aggregate().items():
        rows = "".join(
            f"<tr><td style='white-space:nowrap'>{_swatch(e.event_type)}</td>"
            f"<td style='white-space:nowrap'>v{e.version}</td>"
            f"<td>{html.escape(summarize(e.data))}</td></tr>" for e in events)
        body += (f"<p>{html.escape(events[0].aggregate_type)} "
                 f"<b>{html.escape(aggregate_id)}</b></p>"
                 f"<table cellspacing='0' cellpadding='3'>{rows}</table>")
    for rejection in cascade.rejections:
        words = describe_rejection(rejection.reason, rejection.detail, messages)
        body += (f"<p>✗ {html.escape(_manager(rejection.process_manager))}'s "
                 f"{html.escape(rejection.command_type)} on "
                 f"{html.escape(rejection.aggregate_id)} would be rejected: "
                 f"{html.escape(words)}</p>")
    for step in cascade.parked:
        body += (f"<p>⚠ {html.escape(_manager(step.process_manager))} would fail on "
                 f"{html.escape(step.event_type)} and be parked: "
                 f"{html.escape(step.error)}</p>")
    return body
