"""Change collection for live updates (plain Python over a store; no window)."""

from __future__ import annotations

from incident_core import Application
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank_domain
from incident_gui.models.state_diff import changed_paths
from incident_gui.session import store_updates
from incident_gui.session.store_updates import collect_changes


def test_changes_name_new_events_streams_and_new_streams():
    with Application.open("memory:", bank_domain) as app:
        app.dispatch(OpenAccount(aggregate_id="a"))
        head = app.store.head()
        app.dispatch(DepositMoney(aggregate_id="a", amount=5))
        app.dispatch(OpenAccount(aggregate_id="b"))
        changes = collect_changes(app.store, head, app.store.head())
        assert [e.event_type for e in changes.events] == ["MoneyDeposited", "AccountOpened"]
        assert {s.aggregate_id: s.version for s in changes.streams} == {"a": 2, "b": 1}
        assert changes.new_ids == {"b"}
        assert changes.event_types == {"MoneyDeposited", "AccountOpened"}
        later = changes.since(head + 1)  # the window had seen the deposit already
        assert [e.aggregate_id for e in later.events] == ["b"]
        assert [s.aggregate_id for s in later.streams] == ["b"]


def test_too_many_changes_ask_for_a_reload(monkeypatch):
    monkeypatch.setattr(store_updates, "MAX_EVENTS", 2)
    with Application.open("memory:", bank_domain) as app:
        for name in "abc":
            app.dispatch(OpenAccount(aggregate_id=name))
        changes = collect_changes(app.store, 0, app.store.head())
        assert changes.events is None and changes.streams is None
        assert changes.since(1).old_head == 1


def test_changed_paths_marks_changed_fields_and_their_parents():
    before = {"balance": 1, "owner": {"name": "ann", "city": "Oslo"}, "tags": ["x"]}
    after = {"balance": 1, "owner": {"name": "ann", "city": "Rome"}, "tags": ["x", "y"],
             "new": True}
    assert changed_paths(before, after) == {("owner", "city"), ("owner",), ("tags",),
                                            ("new",)}
    assert changed_paths(after, after) == set()



def test_the_feed_orders_own_and_other_commits_and_reads_only_the_gaps(tmp_path):
    from incident_gui.session.change_feed import ChangeFeed
    from incident_gui.session.live import read_ranges

    target = str(tmp_path / "feed.sqlite3")
    with Application.open(target, bank_domain, create=True) as ours, \
            Application.open(target, bank_domain) as theirs:
        ours.dispatch(OpenAccount(aggregate_id="a"))
        feed = ChangeFeed(ours.store.head())  # the views know position 1
        ours.subscribe(lambda events: given.append(feed.own_committed(events)))
        given: list[object] = []
        theirs.dispatch(OpenAccount(aggregate_id="b"))  # position 2: no notice to the feed
        ours.dispatch(DepositMoney(aggregate_id="a", amount=5))  # position 3
        assert given == [None]  # 2 is missing: our 3 waits for it
        head = ours.store.head()
        assert feed.gaps(head) == [(1, 2)]  # only the other writer's event is read
        changes = feed.merge(head, read_ranges(ours.store, feed.gaps(head)))
        assert [e.position for e in changes.events] == [2, 3]
        assert (changes.old_head, changes.head, feed.known) == (1, 3, 3)
        assert {s.aggregate_id: s.version for s in changes.streams} == {"a": 2, "b": 1}
        assert changes.new_ids == {"b"}
        ours.dispatch(DepositMoney(aggregate_id="b", amount=1))  # follows without a gap
        assert [e.position for e in given[-1].events] == [4]
        assert feed.gaps(4) == [] and feed.merge(4, []) is None  # nothing left to read
