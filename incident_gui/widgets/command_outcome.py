"""What a command caused, in words and links: its own events, then what the process managers
recorded in the same correlation; rejections in the domain's own words.

The cascade is read back through the store's correlation query
(`EventStore.events_with_metadata("correlation_id", ...)`) right after the dispatch, in the
same worker thread. Every event is a link ``event:<event_id>``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from incident_core import Accepted, Application, Preview, RecordedEvent, Rejected
from incident_core.domain import Command, Domain, Event
from incident_gui.presentation.colors import color_for_event_type
from incident_gui.presentation.formatting import plural, pretty_json, summarize
from incident_gui.widgets.cascade_preview import cascade_html
from incident_gui.widgets.rejection_words import ENGINE_WORDS, describe_rejection

__all__ = ["CASCADE_LIMIT", "ENGINE_WORDS", "DispatchOutcome", "cascade_summary",
           "describe_rejection", "dispatch_with_cascade", "event_list_html", "heading",
           "plural", "preview_html", "reacting_managers", "recorded_html", "rejection_html"]

CASCADE_LIMIT = 1000


@dataclass(frozen=True)
class DispatchOutcome:
    """A dispatch's result and the events process managers recorded because of it."""

    result: Any  # Accepted | Rejected | Conflicted
    cascade: list[RecordedEvent] = field(default_factory=list)

    @property
    def all_events(self) -> list[RecordedEvent]:
        own = list(self.result.events) if isinstance(self.result, Accepted) else []
        return own + self.cascade


def dispatch_with_cascade(app: Application, command: Command) -> DispatchOutcome:
    """Dispatch, then read the whole correlation back (runs in a worker thread)."""
    result = app.dispatch(command)
    if not isinstance(result, Accepted) or not result.events:
        return DispatchOutcome(result)
    correlation = result.events[0].correlation_id
    if correlation is None:
        return DispatchOutcome(result)
    own = {event.event_id for event in result.events}
    related = app.store.events_with_metadata("correlation_id", correlation,
                                             limit=CASCADE_LIMIT)
    cascade = sorted((e for e in related if e.event_id not in own), key=lambda e: e.position)
    return DispatchOutcome(result, cascade)


def reacting_managers(domain: Domain, event_types: Sequence[str]) -> list[str]:
    """The names of the process managers that handle any of `event_types`."""
    wanted = set(event_types)
    return [name for name, manager in domain.process_managers.items()
            if wanted & set(manager.event_type_names)]


def _who(domain: Domain, event_types: Sequence[str]) -> str:
    names = reacting_managers(domain, event_types)
    if len(names) == 1:
        return f"the {names[0].replace('_', ' ')}"
    return "process managers"


def cascade_summary(domain: Domain, own: Sequence[RecordedEvent],
                    cascade: Sequence[RecordedEvent]) -> str:
    """`Recorded 1 event; the transfer saga then recorded 4 more on 3 aggregates`."""
    text = f"Recorded {plural(len(own), 'event')}"
    if cascade:
        who = _who(domain, [e.event_type for e in [*own, *cascade]])
        aggregates = len({e.aggregate_id for e in cascade})
        text += (f"; {who} then recorded {len(cascade):,} more on "
                 f"{plural(aggregates, 'aggregate')}")
    return text


_KEEP = "<td style='white-space:nowrap'>"  # a cell that never wraps (ids, types)


def _swatch(event_type: str) -> str:
    color = color_for_event_type(event_type).name()
    return f"<span style='color:{color}'>■</span> <b>{html.escape(event_type)}</b>"


def _link(event: RecordedEvent) -> str:
    return (f"<a href='event:{html.escape(event.event_id)}'>#{event.position}</a>")


def recorded_html(events: Sequence[RecordedEvent]) -> str:
    """One row per recorded event: a link to it, its type, aggregate, version and data."""
    rows = "".join(
        f"<tr>{_KEEP}{_link(e)}</td>{_KEEP}{_swatch(e.event_type)}</td>"
        f"{_KEEP}{html.escape(e.aggregate_id)} v{e.version}</td>"
        f"<td>{html.escape(summarize(e.data))}</td></tr>"
        for e in events)
    return f"<table cellspacing='0' cellpadding='3'>{rows}</table>"


def event_list_html(events: Sequence[Event]) -> str:
    """Events a preview would record (not recorded: no links)."""
    if not events:
        return "<p>(none)</p>"
    rows = "".join(
        f"<tr>{_KEEP}{_swatch(type(e).__name__)}</td>"
        f"<td>{html.escape(summarize(e.model_dump(mode='json')))}</td></tr>"
        for e in events)
    return f"<table cellspacing='0' cellpadding='3'>{rows}</table>"


def heading(text: str) -> str:
    return f"<p><b>{html.escape(text)}</b></p>"


def rejection_html(title: str, rejection: Rejected, messages: Mapping[str, str] | None,
                   red: str) -> str:
    words = html.escape(describe_rejection(rejection.reason, rejection.detail, messages))
    return (f"<p><b style='color:{red}'>{title}:</b> {words}</p>"
            f"<p><small>Reason code: <code>{html.escape(rejection.reason)}</code>"
            "</small></p>")


def _reaction_note(domain: Domain, preview: Preview) -> str:
    names = reacting_managers(domain, [type(e).__name__ for e in preview.events])
    if not names:
        return ""
    who = ", ".join(name.replace("_", " ") for name in names)
    return (f"<p><i>Process managers will react: {html.escape(who)} — after Dispatch "
            "their events are shown too.</i></p>")


def preview_html(domain: Domain, preview: Preview) -> str:
    """What an accepted preview would do: versions, events, reactions, the state after."""
    before, after = preview.before, preview.after
    body = heading("Preview — nothing was recorded")
    body += (f"<p>{before.aggregate_type} {html.escape(before.aggregate_id)} would go from "
             f"version {before.version} to {after.version if after else before.version}.</p>")
    body += "<p><b>Events it would record</b></p>" + event_list_html(preview.events)
    body += _reaction_note(domain, preview)
    if preview.cascade is not None:  # what the process managers would then record
        body += cascade_html(preview.cascade, domain.rejection_messages)
    if after is not None:
        state = pretty_json(after.state.model_dump(mode="json"))
        body += f"<p><b>State after</b></p><pre>{html.escape(state)}</pre>"
    return body
