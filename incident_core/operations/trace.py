"""The conversation of an event: who caused what, across aggregates and process managers.

`trace(store, ident)` takes an event id or a correlation id and builds the causation graph
of the whole conversation from two indexed queries (the event by id, then the events of its
correlation id): nodes for the command(s) that started it, every event, every process-manager
step and every command a step dispatched; edges follow causation; one lane per aggregate.

A command that a step dispatched and the domain *rejected* leaves no event: the engine keeps
it as a saga outcome (`EventStore.saga_outcomes`, read by correlation id), drawn as a command
node with status `rejected`. Events a step's commands recorded name their manager in their
metadata (`process_manager`), so two managers of one event type each get their own
follow-ups (older events without it go to the first). A step whose trigger was handled but
that caused no event and no recorded rejection is `no_follow_up`. Parked steps (a handler
that raised) come from the application's parked-step list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from incident_core.envelope import RecordedEvent
from incident_core.errors import IncidentError

if TYPE_CHECKING:
    from incident_core.domain import Domain
    from incident_core.engine.application import Application
    from incident_core.ports import EventStore
    from incident_core.process import SagaOutcome

__all__ = ["Conversation", "ConversationNotFound", "TraceNode", "parked_steps_of", "trace",
           "trace_app"]

DEFAULT_LIMIT = 5000
COMMAND, EVENT, STEP = "command", "event", "step"
REJECTED = "rejected"


class ConversationNotFound(IncidentError):
    """No event has this id, and no event carries it as correlation id."""


@dataclass(frozen=True, slots=True)
class TraceNode:
    """One node of a conversation. `status`: ok, no_follow_up, pending, parked, skipped;
    rejected (a command a step dispatched that the domain refused: `reason`, `detail`)."""

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
    reason: str = ""

    @property
    def rejected(self) -> bool:
        return self.status == REJECTED

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.node_id, "kind": self.kind, "label": self.label,
                               "lane": self.lane, "parent": self.parent, "time": self.time,
                               "position": self.position, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
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
    builder = _Builder(domain, checkpoints, parked,
                       store.saga_outcomes(correlation_id=correlation))
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
                 parked: Iterable[Any], outcomes: Iterable[SagaOutcome] = ()) -> None:
        self.domain = domain
        self.checkpoints = checkpoints
        self.parked = {(str(p.process_manager), str(p.event_id)): p for p in parked}
        self.rejected: dict[str, list[SagaOutcome]] = defaultdict(list)  # by cause event id
        for outcome in outcomes:
            self.rejected[outcome.cause_event_id].append(outcome)
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
            if cause is not None and cause in ids and cause != event.event_id \
                    and not event.caused_by_its_command:
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
        rejected = self.rejected.get(event.event_id, [])
        by_manager: dict[str | None, list[RecordedEvent]] = defaultdict(list)
        for follower in followers:  # events name the manager whose step recorded them
            by_manager[follower.metadata.get("process_manager")].append(follower)
        named = [m for m in by_manager if m is not None] + [o.process_manager for o in rejected]
        managers = self.managers_of(event.event_type)
        names = list(dict.fromkeys(managers + [o.process_manager for o in rejected]
                                   if managers else named))
        if not names and not followers:
            return
        names = names or ["process manager"]
        stray = [f for m, group in by_manager.items() if m not in names for f in group]
        for index, name in enumerate(names):  # unattributed follow-ups: the first manager's
            mine = by_manager.get(name, []) + (stray if index == 0 else [])
            mine.sort(key=lambda e: e.position)
            refused = [o for o in rejected if o.process_manager == name]
            step_id = f"step:{name}:{event.event_id}"
            status, detail = self._step_status(name, event, bool(mine or refused))
            time = mine[0].recorded_at_text if mine else event.recorded_at_text
            self.nodes.append(TraceNode(step_id, STEP, name, f"saga:{name}", event.event_id,
                                        time, event.position, status=status, detail=detail))
            self._dispatched(step_id, _by_command(mine), refused, caused)

    def _dispatched(self, step_id: str, commands: list[tuple[str, list[RecordedEvent]]],
                    refused: list[SagaOutcome], caused: dict[str, list[RecordedEvent]]) -> None:
        """A step's commands in the order it dispatched them (by time: the accepted ones'
        events and the rejections are stamped when decided)."""
        work: list[tuple[str, tuple[str, list[RecordedEvent]] | SagaOutcome]] = [
            (group[0].recorded_at_text, (command_id, group)) for command_id, group in commands]
        work += [(outcome.recorded_at, outcome) for outcome in refused]
        work.sort(key=lambda item: item[0])
        for number, (_, item) in enumerate(work):
            if isinstance(item, tuple):
                self._command(item[0], item[1], step_id, caused)
            else:
                self.nodes.append(_rejected_node(item, step_id, number))

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
        return "no_follow_up", ("handled, but no event followed and no rejection was "
                                "recorded: it dispatched no command")


def _rejected_node(outcome: SagaOutcome, step_id: str, number: int) -> TraceNode:
    return TraceNode(f"rejected:{step_id}:{number}", COMMAND, outcome.command_type,
                     outcome.aggregate_id, step_id, outcome.recorded_at, None,
                     status=REJECTED, detail=outcome.detail, reason=outcome.reason)


def _command_type(event: RecordedEvent) -> str:
    return str(event.metadata.get("command_type") or "command")


def _by_command(events: Iterable[RecordedEvent]) -> list[tuple[str, list[RecordedEvent]]]:
    groups: dict[str, list[RecordedEvent]] = {}
    for event in events:
        command_id = event.metadata.get("command_id") or event.causation_id or event.event_id
        groups.setdefault(str(command_id), []).append(event)
    return list(groups.items())
