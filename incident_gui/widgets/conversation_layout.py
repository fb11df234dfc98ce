"""Where each node of a conversation goes: one column per node in time order, one lane per
aggregate (and one per process manager). Plain Python, computed once per conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incident_core.operations.trace import Conversation, TraceNode

__all__ = ["COLUMN_W", "LANE_H", "LEFT", "NODE_H", "NODE_W", "TOP", "Placed", "delta_text",
           "layout"]

NODE_W, NODE_H = 132.0, 38.0
COLUMN_W, LANE_H = 150.0, 64.0
LEFT, TOP = 170.0, 12.0
_RANK = {"command": 0, "event": 1, "step": 2}


@dataclass(frozen=True, slots=True)
class Placed:
    node: TraceNode
    x: float
    y: float
    lane_index: int
    delta: str          # the time since the parent ("" for a root)


def _order_key(item: tuple[int, TraceNode]) -> tuple[int, int, int]:
    index, node = item
    return (node.position or 0, _RANK.get(node.kind, 3), index)


def delta_text(before: str | None, after: str | None) -> str:
    """The time between two store times, short: "+0.4 ms", "+2.51 s", "+3 min"."""
    if before is None or after is None:
        return ""
    seconds = (datetime.fromisoformat(after) - datetime.fromisoformat(before)).total_seconds()
    if seconds < 1:
        return f"+{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"+{seconds:.2f} s"
    if seconds < 7200:
        return f"+{seconds / 60:.0f} min"
    return f"+{seconds / 3600:.1f} h"


def layout(conversation: Conversation) -> list[Placed]:
    """Nodes in time order (a command before its events, a step after its trigger), each
    in its own column, in its lane's row."""
    lanes = {lane: index for index, lane in enumerate(conversation.lanes)}
    times = {n.node_id: n.time for n in conversation.nodes}
    ordered = sorted(enumerate(conversation.nodes), key=_order_key)
    out = []
    for column, (_, node) in enumerate(ordered):
        lane = lanes[node.lane]
        parent_time = None if node.parent is None else times.get(node.parent)
        out.append(Placed(node, LEFT + column * COLUMN_W,
                          TOP + lane * LANE_H + (LANE_H - NODE_H) / 2, lane,
                          delta_text(parent_time, node.time)))
    return out
