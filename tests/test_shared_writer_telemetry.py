"""With telemetry on, a command a follower forwards to the store's shared writer is traced on
both sides: the follower's `incident.dispatch`, and the writer's `incident.forwarded` in the
same trace, its child, with the command's attributes, its outcome and the writer's phases
(load, decide, commit) under it. No dispatch metric is counted twice."""

from __future__ import annotations

from pathlib import Path

from incident_core import Application
from tests import shared_writer_domain as s
from tests.test_telemetry import Seen, seen

__all__ = ["seen"]  # the fixture, shared with the telemetry tests


def test_a_forwarded_command_is_a_writer_span_in_the_followers_trace(
        seen: Seen, tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    with Application.open(db, s.domain, create=True, shared_writer=True) as writer, \
            Application.open(db, s.domain, shared_writer=True) as follower:
        assert writer.shared_writer is not None and writer.shared_writer.serving
        assert follower.dispatch(s.Put(aggregate_id="box", n=1)).ok
        assert not follower.dispatch(s.Put(aggregate_id="box", n=-1)).ok  # rejected
        assert follower.shared_writer is not None and follower.shared_writer.forwarded == 2
    dispatches = seen.spans("incident.dispatch")
    forwarded = seen.spans("incident.forwarded")
    assert len(dispatches) == len(forwarded) == 2
    for outcome, dispatch, served in zip(("accepted", "rejected"), dispatches, forwarded,
                                         strict=True):
        assert served.parent is not None
        assert served.context.trace_id == dispatch.context.trace_id
        assert served.parent.span_id == dispatch.context.span_id
        assert served.attributes is not None and dispatch.attributes is not None
        assert served.attributes["incident.outcome"] == outcome
        assert served.attributes["incident.command.type"] == "Put"
        assert served.attributes["incident.aggregate.id"] == "box"
        assert served.attributes["incident.events"] == dispatch.attributes["incident.events"]
        phases = [c.name for c in seen.children(served)]
        assert phases[:2] == ["incident.load", "incident.decide"]
    assert [c.name for c in seen.children(forwarded[0])][-1] == "incident.commit"
    durations = seen.points("incident.dispatch.duration")  # the follower's count only
    assert sorted((d.attributes["incident.outcome"], d.count) for d in durations) == [
        ("accepted", 1), ("rejected", 1)]
