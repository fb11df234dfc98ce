"""`incident trace ID`: the conversation of an event or a correlation id, as a tree; and
`incident sagas conversations`: each process manager's lag and open conversations."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from incident_core.cli.branch import add_branch_commands
from incident_core.cli.context import load_domain, open_app
from incident_core.cli.output import FAILED, OK, Exit, emit, emit_table

if TYPE_CHECKING:
    from incident_core.operations.trace import Conversation, TraceNode

__all__ = ["add_trace_command", "cmd_conversations", "cmd_trace", "render_text"]

_MARKS = {"command": "▶", "event": "●", "step": "⚙"}


def add_trace_command(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                      common: argparse.ArgumentParser) -> None:
    """Register `trace`, `branch` and `diff` on the subcommand parser."""
    text = "the conversation (causation tree) of an event id or a correlation id"
    command = sub.add_parser("trace", parents=[common], help=text, description=text)
    command.set_defaults(handler=cmd_trace)
    command.add_argument("ident", metavar="ID", help="an event id or a correlation id")
    command.add_argument("--limit", type=int, default=5000, metavar="N",
                         help="at most N events (default 5000)")
    command.add_argument("--format", choices=("text", "json"), default="text")
    add_branch_commands(sub, common)


def cmd_conversations(args: argparse.Namespace) -> int:
    from incident_core.operations.conversations import managers_status

    domain = load_domain(args)
    with open_app(args, domain, read_only=True) as app:
        statuses = managers_status(app)
    if args.format == "json":
        emit([s.to_json() for s in statuses])
        return OK
    emit_table(("manager", "checkpoint", "lag", "correlation_id", "aggregate", "age_s",
                "last_step"),
               [(s.name, s.checkpoint, s.lag, c.correlation_id, c.aggregate_id,
                 round(c.age_seconds, 1), f"#{c.last_position} {c.last_event_type}")
                for s in statuses for c in s.conversations]
               or [(s.name, s.checkpoint, s.lag, "", "", "", "") for s in statuses])
    return OK


def cmd_trace(args: argparse.Namespace) -> int:
    from incident_core.operations.trace import ConversationNotFound, trace_app

    domain = load_domain(args)
    with open_app(args, domain, read_only=True) as app:
        try:
            conversation = trace_app(app, args.ident, limit=max(1, args.limit))
        except ConversationNotFound as exc:
            raise Exit(FAILED, str(exc), {"ok": False, "error": "not_found",
                                          "id": args.ident}) from None
    if args.format == "json":
        emit(conversation.to_json())
    else:
        sys.stdout.write(render_text(conversation))
    return OK


def _delta(before: str | None, after: str | None) -> str:
    if before is None or after is None:
        return ""
    seconds = (datetime.fromisoformat(after) - datetime.fromisoformat(before)).total_seconds()
    if seconds < 1:
        return f"  +{seconds * 1000:.1f} ms"
    return f"  +{seconds:.2f} s"


def _line(node: TraceNode, parent: TraceNode | None, focus: str | None) -> str:
    where = f"  [{node.lane}]" if node.kind != "step" else ""
    position = f"#{node.position} " if node.kind == "event" else ""
    if node.rejected:
        status = f"  ✗ rejected: {node.reason}" + (f" ({node.detail})" if node.detail else "")
    else:
        status = "" if node.status == "ok" else f"  ({node.status}: {node.detail})"
    mark = "  ◀" if node.node_id == focus else ""
    delta = _delta(None if parent is None else parent.time, node.time)
    return f"{_MARKS.get(node.kind, '?')} {position}{node.label}{where}{delta}{status}{mark}"


def render_text(conversation: Conversation) -> str:
    """The tree as indented lines: commands ▶, events ●, process-manager steps ⚙."""
    children = conversation.children()
    by_id = {n.node_id: n for n in conversation.nodes}
    lines = [f"conversation {conversation.correlation_id} ({len(conversation.nodes)} nodes, "
             f"{len(conversation.lanes)} lanes)"]
    stack = [(node, 1) for node in reversed(children.get(None, []))]
    while stack:
        node, depth = stack.pop()
        parent = None if node.parent is None else by_id.get(node.parent)
        lines.append("  " * depth + _line(node, parent, conversation.focus))
        stack.extend((child, depth + 1) for child in reversed(children.get(node.node_id, [])))
    if conversation.truncated:
        lines.append("… more events in this conversation (raise --limit)")
    return "\n".join(lines) + "\n"
