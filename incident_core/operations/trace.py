"""The conversation of an event: who caused what, across aggregates and process managers.

`trace(store, ident)` takes an event id or a correlation id and builds the causation graph
of the whole conversation from two indexed queries (the event by id, then the events of its
correlation id): nodes for the command(s) that started it, every event, every process-manager
step and every command a step dispatched; edges follow causation; one lane per aggregate.

What the log cannot tell: a command that a step dispatched and the domain *rejected* leaves
no event, so it cannot be drawn. A step whose trigger was handled (the manager's checkpoint
is past it) but that caused no event is shown as `no_follow_up` — its commands were all
rejected, or the handler chose to do nothing; which of the two needs recorded saga decisions.
Parked steps (a handler that raised) come from the application's parked-step list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError

if TYPE_CHECKING:
    from incident_core.app import Application
    from incident_core.domain import Domain
    from incident_core.store.base import EventStore

__all__ = ["Conversation", "ConversationNotFound", "TraceNode", "parked_steps_of", "trace",
           "trace_app"]

DEFAULT_LIMIT = 5000
COMMAND, EVENT, STEP = "command", "event", "step"


class ConversationNotFound(IncidentError):
    """No event has this id, and no event carries it as correlation id."""


@dataclass(frozen=True, slots=True)
class TraceNode:
    """One node of a conversation. `status`: ok, no_follow_up, pending, parked, skipped."""

    node_id: str
    kind: str                       # command | event | step
    label: str                      # command type, event type, process manager name
    lane: str                       # aggregate id (steps: "saga:<manager>")
    parent: str | None              # the node that caused this one (None: a root)
    time: str | None                # ISO-8601 UTC text (the store's format)
    position: int | None = None     # events: global position; others: the first event's
    event: RecordedEvent | None = field(default=None, compare=False)
    status: str = "ok"
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.node_id, "kind": self.kind, "label": self.label,
                               "lane": self.lane, "parent": self.parent, "time": self.time,
                               "position": self.position, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if self.event is not None:
            out["aggregate_id"] = self.event.aggregate_id
            out["version"] = self.event.version
            out["data"] = self.event.data
        return out


@dataclass(frozen=True, slots=True)
class Conversation:
    """Nodes in tree order (depth first, each after its parent; siblings in position
    order), lanes in order of first appearance."""

    correlation_id: str
    focus: str | None               # the event id asked for (None: a correlation id)
    nodes: tuple[TraceNode, ...]
    lanes: tuple[str, ...]
    truncated: bool = False

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(n.parent, n.node_id) for n in self.nodes if n.parent is not None]

    def children(self) -> dict[str | None, list[TraceNode]]:
        out: dict[str | None, list[TraceNode]] = defaultdict(list)
        for node in self.nodes:
            out[node.parent].append(node)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"correlation_id": self.correlation_id, "focus": self.focus,
                "lanes": list(self.lanes), "truncated": self.truncated,
                "nodes": [n.to_json() for n in self.nodes],
                "edges": [list(e) for e in self.edges]}


def parked_steps_of(app: object, *, include_skipped: bool = True) -> list[Any]:
    """The application's parked saga steps (the saga-parking API), or [] where the engine
    has none. One small adapter, so callers work with and without parking."""
    getter = getattr(app, "parked_steps", None)
    if getter is None:
        return []
    return list(getter(include_skipped=include_skipped))


def trace(store: EventStore, ident: str, *, domain: Domain | None = None,
          checkpoints: dict[str, int] | None = None, parked: Iterable[Any] = (),
          limit: int = DEFAULT_LIMIT) -> Conversation:
    """The conversation of `ident` (an event id or a correlation id).

    `domain` names the process-manager steps (without it a step is "process manager" and
    only steps that caused events are shown); `checkpoints` (the store's, all of them)
    tells a step not yet handled from one that caused nothing; `parked` are parked steps
    (objects with process_manager, event_id, status, error, skip_reason); at most `limit`
    events are read (`truncated` says when there were more)."""
    focus = store.get_event(ident)
    correlation = ident if focus is None else (focus.correlation_id or focus.event_id)
    events = store.events_with_metadata("correlation_id", correlation, limit + 1)
    if focus is not None and not events:
        events = [focus]  # an event recorded without correlation metadata
    if not events:
        raise ConversationNotFound(f"no event or correlation id {ident!r} in this store")
    truncated = len(events) > limit
    builder = _Builder(domain, checkpoints, parked)
    nodes = builder.build(events[:limit])
    lanes = tuple(dict.fromkeys(n.lane for n in nodes))
    return Conversation(correlation, None if focus is None else focus.event_id, tuple(nodes),
                        lanes, truncated)


def trace_app(app: Application, ident: str, *, limit: int = DEFAULT_LIMIT) -> Conversation:
    """`trace` with what an application knows: its domain's process managers, their
    checkpoints and the parked steps."""
    return trace(app.store, ident, domain=app.domain, checkpoints=app.store.checkpoints(),
                 parked=parked_steps_of(app), limit=limit)


class _Builder:
    def __init__(self, domain: Domain | None, checkpoints: dict[str, int] | None,
                 parked: Iterable[Any]) -> None:
        self.domain = domain
        self.checkpoints = checkpoints
        self.parked = {(str(p.process_manager), str(p.event_id)): p for p in parked}
        self.nodes: list[TraceNode] = []

    def managers_of(self, event_type: str) -> list[str]:
        if self.domain is None:
            return []
        return [pm.name for pm in self.domain.process_managers.values()
                if event_type in pm.event_type_names]

    def build(self, events: Sequence[RecordedEvent]) -> list[TraceNode]:
        ids = {e.event_id for e in events}
        caused: dict[str, list[RecordedEvent]] = defaultdict(list)
        roots: list[RecordedEvent] = []
        for event in events:  # position order
            cause = event.causation_id
            if cause is not None and cause in ids and cause != event.event_id:
                caused[cause].append(event)
            else:
                roots.append(event)
        for command_id, group in _by_command(roots):
            self._command(command_id, group, None, caused)
        return self.nodes

    def _command(self, command_id: str, group: list[RecordedEvent], parent: str | None,
                 caused: dict[str, list[RecordedEvent]]) -> None:
        first = group[0]
        node_id = f"command:{command_id}"
        self.nodes.append(TraceNode(node_id, COMMAND, _command_type(first), first.aggregate_id,
                                    parent, first.recorded_at_text, first.position,
                                    detail=f"command id {command_id}"))
        for event in group:
            self.nodes.append(TraceNode(event.event_id, EVENT, event.event_type,
                                        event.aggregate_id, node_id, event.recorded_at_text,
                                        event.position, event))
            self._steps(event, caused)

    def _steps(self, event: RecordedEvent, caused: dict[str, list[RecordedEvent]]) -> None:
        followers = caused.get(event.event_id, [])
        managers = self.managers_of(event.event_type)
        if not followers and not managers:
            return
        names = managers or ["process manager"]
        for index, name in enumerate(names):
            mine = followers if index == 0 else []  # the log does not say which manager
            step_id = f"step:{name}:{event.event_id}"
            status, detail = self._step_status(name, event, bool(mine))
            time = mine[0].recorded_at_text if mine else event.recorded_at_text
            self.nodes.append(TraceNode(step_id, STEP, name, f"saga:{name}", event.event_id,
                                        time, event.position, status=status, detail=detail))
            for command_id, group in _by_command(mine):
                self._command(command_id, group, step_id, caused)

    def _step_status(self, name: str, event: RecordedEvent, followed: bool) -> tuple[str, str]:
        parked = self.parked.get((name, event.event_id))
        if parked is not None:
            status = str(getattr(parked, "status", "parked"))
            reason = getattr(parked, "skip_reason", None)
            extra = f" (skipped: {reason})" if status == "skipped" and reason else ""
            return status, f"{parked.error}{extra}"
        if followed:
            return "ok", ""
        # checkpoints unknown (None): assume handled; a manager without one never ran
        checkpoint = None if self.checkpoints is None else self.checkpoints.get(name, 0)
        if checkpoint is not None and checkpoint < event.position:
            return "pending", "not handled yet (the manager's checkpoint is behind)"
        return "no_follow_up", ("handled, but no event followed: every command it "
                                "dispatched was rejected, or it dispatched none")


def _command_type(event: RecordedEvent) -> str:
    return str(event.metadata.get("command_type") or "command")


def _by_command(events: Iterable[RecordedEvent]) -> list[tuple[str, list[RecordedEvent]]]:
    groups: dict[str, list[RecordedEvent]] = {}
    for event in events:
        command_id = event.metadata.get("command_id") or event.causation_id or event.event_id
        groups.setdefault(str(command_id), []).append(event)
    return list(groups.items())
