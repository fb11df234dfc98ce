"""Property: for random commands of a domain with nested models, enums, datetimes, floats
(finite or not), big integers and UUID ids, what is accepted gives the same state and
projection rows live as after a replay, and what is refused writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from incident_core import Application, IncidentError
from tests import trust_domain as t

IDS = [uuid.UUID(int=n) for n in range(1, 4)]
numbers = st.one_of(st.integers(-(2**62), 2**62), st.integers(-(2**70), 2**70))
rates = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(1.0))
legs = st.builds(t.Leg, account=st.sampled_from(["a", "b"]), amount=numbers, rate=rates)
moneys = st.one_of(st.builds(t.Money, amount=st.integers(0, 100)),
                   st.builds(t.EuroMoney, amount=st.integers(0, 100)))
posts = st.builds(t.Post, aggregate_id=st.sampled_from(IDS), legs=st.lists(legs, max_size=3),
                  money=moneys, kind=st.sampled_from(list(t.Kind)),
                  at=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))))


def replayed_rows(app: Application) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for batch in app.store.iter_events():
        for recorded in batch:
            if t.ledger_rows.handles(recorded.event_type):
                event = t.domain.decode(recorded.event_type, recorded.data)
                step = t.ledger_rows.step(rows.get(recorded.aggregate_id), recorded, event)
                if isinstance(step, dict):
                    rows[recorded.aggregate_id] = step
    return [rows[k] for k in sorted(rows)]


@settings(max_examples=60, deadline=None)
@given(st.lists(posts, max_size=12))
def test_live_equals_replay_for_random_commands(commands: list[t.Post]) -> None:
    t.FAIL["auditor"] = False
    app = Application.open("memory:", t.domain)
    for command in commands:
        head = app.store.head()
        try:
            app.dispatch(command)
        except IncidentError:
            assert app.store.head() == head  # refused: nothing written
    for ledger_id in IDS:
        replayed = app.state(ledger_id)
        if replayed is None:
            continue
        live = app.preview(t.Post(aggregate_id=ledger_id, legs=[])).before
        assert live == replayed
    assert app.store.projection_rows(t.ledger_rows.spec) == replayed_rows(app)
