"""Property: whatever mistakes the crates domain makes (`tests.mutating_domain`: handlers
changing in place what they are given), a random run of loads, one at a time or in
`dispatch_many` batches, forwarded by the saga or not, leaves every live state, every
projection row and every snapshot equal to a replay of the log."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_core import Application
from incident_core.engine.results import DomainCodeError
from incident_core.operations import rebuild
from incident_core.progress import run_to_end
from tests.mutating_domain import APPLY, EXECUTE, KEEP, PROJECTION, SAGA, Item, Load, build
from tests.test_live_equals_replay import AT, live, replay_agrees, replayed, rows

CRATES = ["a", "b", "c"]
loads = st.builds(
    lambda crate, names, weight, forward: Load(
        aggregate_id=crate, items=[Item(name=n, weight=weight) for n in names], at=AT,
        forward_to=forward),
    st.sampled_from(CRATES), st.lists(st.sampled_from(["apple", "pear", "fig"]), max_size=3),
    st.sampled_from([0.5, 1 / 3, 40.0]), st.none() | st.sampled_from(CRATES))
runs = st.lists(st.lists(loads, min_size=1, max_size=3), min_size=1, max_size=6)
mistakes = st.sets(st.sampled_from([EXECUTE, APPLY, PROJECTION, SAGA, KEEP]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(made=mistakes, batches=runs, on_disk=st.booleans())
def test_live_equals_replay_whatever_the_mistakes(made: set[str], batches: list[list[Load]],
                                                  on_disk: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = str(Path(folder) / "crates.sqlite3") if on_disk else "memory:"
        with Application.open(target, build(made), create=True) as app:
            for batch in batches:
                try:
                    if len(batch) == 1:
                        app.dispatch(batch[0])
                    else:
                        app.dispatch_many(batch)
                except DomainCodeError as exc:  # an execute that changed its state
                    assert EXECUTE in made and "changed in place the state" in str(exc)
            made.clear()  # the checks below run the domain's code too
            touched = [c for c in CRATES if app.store.stream(c) is not None]
            for crate in touched:
                assert live(app, crate) == replayed(app, crate)
            replay_agrees(app, *touched)
            live_rows = rows(app, "tag_count")
            assert all(row["tags"] == 0 and row["notes"] == 0 for row in live_rows)
            run_to_end(rebuild(app, ["first_look", "tag_count"]))
            assert rows(app, "tag_count") == live_rows
