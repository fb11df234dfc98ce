"""Time travel in the core: as-of views, diffs between positions, shadow rebuilds and the
event catalogue, on every adapter (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from incident_core.engine.application import Application
from incident_core.engine.projector import ProjectionFold
from incident_core.examples import library
from incident_core.examples.bank import DepositMoney, OpenAccount
from incident_core.examples.bank import domain as bank_domain
from incident_core.operations import asof, demo
from incident_core.operations.asof import (
    InvalidMoment,
    code_signature,
    diff_positions,
    position_at,
    resolve_moment,
    rows_as_of,
    state_as_of,
    stream_count_at,
    streams_at,
)
from incident_core.operations.catalog import catalog, try_decode
from incident_core.operations.rowdiff import keyed_rows
from incident_core.operations.shadow import ShadowState, shadow_rebuild
from incident_core.progress import run_to_end
from incident_core.store import snapshot_packing, snapshots
from incident_core.store.open import open_store
from incident_core.store.snapshots import SnapshotShelf
from tests.timetravel_domains import changed_bank, notes_v1, notes_v2

NAMES = ("bank_accounts", "transfers")


def fresh_replay(app: Application, name: str, position: int) -> dict[str, dict[str, Any]]:
    """The rows of a projection replayed from nothing up to `position` (the reference)."""
    projection = app.projection(name)
    fold = ProjectionFold(app.domain, [projection], until={name: position})
    for batch in app.store.iter_events(up_to=position):
        for recorded in batch:
            fold.feed(recorded)
    return keyed_rows(projection.spec, fold.rows(name))


def live_rows(app: Application, name: str) -> dict[str, dict[str, Any]]:
    spec = app.projection(name).spec
    return keyed_rows(spec, app.store.projection_rows(spec))


@pytest.fixture
def seeded(bank: Application) -> Application:
    run_to_end(demo(bank, accounts=12, transfers=40, seed=3))
    return bank


def test_as_of_in_the_middle_equals_a_fresh_replay(seeded: Application) -> None:
    middle = seeded.store.head() // 2 + 7
    first = rows_as_of(seeded, NAMES, middle, every=25)
    again = rows_as_of(seeded, NAMES, middle, every=25)
    for name in NAMES:
        spec = seeded.projection(name).spec
        expected = fresh_replay(seeded, name, middle)
        assert keyed_rows(spec, first[name].rows) == expected
        assert keyed_rows(spec, again[name].rows) == expected
        assert first[name].snapshot == 0
        assert 0 < again[name].snapshot <= middle  # the second one starts from a snapshot
        assert again[name].replayed < first[name].replayed
    head = rows_as_of(seeded, NAMES, seeded.store.head(), every=25)
    for name in NAMES:
        spec = seeded.projection(name).spec
        assert keyed_rows(spec, head[name].rows) == live_rows(seeded, name)
    assert rows_as_of(seeded, NAMES, 0)["bank_accounts"].rows == []


def test_snapshots_are_bounded_and_keyed_by_code(seeded: Application,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asof, "FULL_EVERY", 3)
    monkeypatch.setattr(snapshot_packing, "MAX_SEGMENTS", 8)
    rows_as_of(seeded, NAMES, seeded.store.head(), every=1)
    shelf = SnapshotShelf(seeded.store)
    signature = code_signature(seeded, seeded.projection("bank_accounts"))
    kept = shelf.positions("bank_accounts", signature)
    segments = [p for p in kept if shelf.nearest("bank_accounts", signature, p,
                                                 "aggregate_id") is not None
                and shelf.nearest("bank_accounts", signature, p, "aggregate_id")[1] == p]
    assert 0 < len(segments) <= 8 and len(kept) > len(segments)  # fulls and their deltas
    head = seeded.store.head()
    for position in (kept[0], kept[len(kept) // 2], kept[-1], head):
        found = shelf.nearest("bank_accounts", signature, position, "aggregate_id")
        assert found is not None and found[0] <= position
        assert keyed_rows(seeded.projection("bank_accounts").spec, found[2].values()) == \
            fresh_replay(seeded, "bank_accounts", found[0])
    changed = code_signature(seeded, changed_bank.projections["bank_accounts"])
    assert changed != signature
    assert shelf.nearest("bank_accounts", changed, head, "aggregate_id") is None


def test_delta_snapshots_carry_removed_rows(store_target: str) -> None:
    """Loans end (their row is deleted) between snapshots: every position of the log,
    as of it from the deltas, equals a fresh replay."""
    with Application.open(store_target, library.domain, create=True) as app:
        app.dispatch(library.AddBook(aggregate_id="B1", title="Dune", author="Herbert",
                                     genre=library.Genre.FICTION))
        app.dispatch(library.AddBook(aggregate_id="B2", title="Emma", author="Austen",
                                     genre=library.Genre.FICTION))
        for member in ("ann", "bob"):
            app.dispatch(library.RegisterMember(aggregate_id=member, name=member.title()))
        for round_ in range(4):
            for book, member in (("B1", "ann"), ("B2", "bob")):
                assert app.dispatch(library.LendBook(
                    aggregate_id=book, member_id=member, loan_id=uuid.uuid4())).ok
            assert app.dispatch(library.ReturnBook(aggregate_id="B1")).ok
            if round_ % 2:
                assert app.dispatch(library.ReturnBook(aggregate_id="B2")).ok
            else:
                app.dispatch(library.ReturnBook(aggregate_id="B2"))
        names = list(app.domain.projections)
        head = app.store.head()
        rows_as_of(app, names, head, every=2)  # deltas every 2 events
        for position in range(head + 1):
            found = rows_as_of(app, names, position, every=2)
            for name in names:
                assert keyed_rows(app.projection(name).spec, found[name].rows) == \
                    fresh_replay(app, name, position), (name, position)
        last = rows_as_of(app, ["books_on_loan"], head, every=2)["books_on_loan"]
        assert last.snapshot > 2 and last.replayed <= 2  # from a delta (the full is at 2)


def test_diff_between_two_positions(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="acc-a"))
    bank.dispatch(DepositMoney(aggregate_id="acc-a", amount=100))
    first = bank.store.head()
    bank.dispatch(DepositMoney(aggregate_id="acc-a", amount=25))
    bank.dispatch(OpenAccount(aggregate_id="acc-b"))
    second = bank.store.head()
    diff = diff_positions(bank, "bank_accounts", first, second)
    assert diff.counts == {"added": 1, "removed": 0, "changed": 1}
    assert diff.added[0]["aggregate_id"] == "acc-b"
    (change,) = diff.changed
    assert (change.key, change.before["balance"], change.after["balance"]) == ("acc-a", 100, 125)
    assert "balance" in change.columns
    assert diff_positions(bank, "bank_accounts", second, first).counts == {
        "added": 0, "removed": 1, "changed": 1}
    assert diff_positions(bank, "bank_accounts", first, first).is_empty


def test_state_streams_and_times_as_of(bank: Application) -> None:
    bank.dispatch(OpenAccount(aggregate_id="acc-a"))
    bank.dispatch(DepositMoney(aggregate_id="acc-a", amount=10))
    middle = bank.store.head()
    bank.dispatch(DepositMoney(aggregate_id="acc-a", amount=5))
    bank.dispatch(OpenAccount(aggregate_id="acc-b"))
    state = state_as_of(bank, "acc-a", middle)
    assert state is not None and state.version == 2
    assert state.state.model_dump()["balance"] == 10
    assert state_as_of(bank, "acc-b", middle) is None
    streams = streams_at(bank, middle)
    assert [(s.aggregate_id, s.version, s.event_count) for s in streams] == [("acc-a", 2, 2)]
    assert len(streams_at(bank, bank.store.head())) == 2
    head = bank.store.head()
    assert stream_count_at(bank, middle) == 1 and stream_count_at(bank, head) == 2
    assert [s.aggregate_id for s in streams_at(bank, head, pattern="*-B")] == ["acc-b"]
    assert stream_count_at(bank, middle, pattern="acc-b") == 0
    assert stream_count_at(bank, head, aggregate_type="Account", pattern="acc") == 2
    assert streams_at(bank, head, aggregate_type="Transfer") == []
    assert [s.aggregate_id for s in streams_at(bank, head, after_id="acc-a")] == ["acc-b"]
    recorded = bank.store.read_events(after_position=middle - 1, limit=1)[0]
    assert position_at(bank, recorded.recorded_at) >= middle
    assert resolve_moment(bank, str(middle)) == middle
    assert resolve_moment(bank, "2001-01-01T00:00:00Z") == 0
    with pytest.raises(InvalidMoment):
        resolve_moment(bank, str(bank.store.head() + 1))
    with pytest.raises(InvalidMoment):
        resolve_moment(bank, "yesterday")


def test_shadow_rebuild_of_changed_code_diff_swap_and_discard(store_target: str) -> None:
    with open_store(store_target, create=True) as store:
        old = Application(store, bank_domain)
        run_to_end(demo(old, accounts=6, transfers=15, seed=5))
        before = live_rows(old, "bank_accounts")
        app = Application(store, changed_bank)
        assert live_rows(app, "bank_accounts") == before  # the old code's rows still serve
        operation = shadow_rebuild(app, "bank_accounts", every=10)
        next(operation)
        app.dispatch(DepositMoney(aggregate_id=sorted(before)[0], amount=7))  # meanwhile
        shadow = run_to_end(operation)
        assert shadow.position == app.store.head()
        assert not shadow.diff.is_empty and shadow.diff.counts["changed"] > 0
        assert live_rows(app, "bank_accounts") != fresh_replay(app, "bank_accounts",
                                                              app.store.head())
        shadow.discard()
        with pytest.raises(ShadowState):
            shadow.swap()
        assert live_rows(app, "bank_accounts") != fresh_replay(app, "bank_accounts",
                                                              app.store.head())
        shadow = run_to_end(shadow_rebuild(app, "bank_accounts"))
        app.dispatch(DepositMoney(aggregate_id=sorted(before)[1], amount=3))  # before swap
        assert shadow.swap() == app.store.head()
        assert live_rows(app, "bank_accounts") == fresh_replay(app, "bank_accounts",
                                                              app.store.head())
        again = run_to_end(shadow_rebuild(app, "bank_accounts"))
        assert again.diff.is_empty and again.to_json()["identical"]


def _note(app: Application, text: str) -> None:
    app.dispatch(notes_v1.command_type("WriteNote")(aggregate_id=f"n-{uuid.uuid4()}",
                                                    text=text))


def test_catalogue_of_two_schema_versions(store_target: str) -> None:
    with open_store(store_target, create=True) as store:
        old = Application(store, notes_v1)
        for text in ("one", "two words", "three more words"):
            _note(old, text)
        good = store.read_events(limit=1)[0].to_json()
        bad = {**good, "event_id": str(uuid.uuid4()), "aggregate_id": "n-bad",
               "data": {"title": "no text"}}
        old.import_events([bad])
        app = Application(store, notes_v2)
        app.dispatch(notes_v2.command_type("WriteNote")(aggregate_id="n-new", text="a b"))
        found = catalog(app)
        entry = found.entry("NoteWritten")
        assert entry.versions == {1: 4, 2: 1}
        assert entry.current_version == 2 and entry.aggregate == "note"
        assert [f["name"] for f in entry.fields] == ["text", "words"]
        assert [(u["from_version"], u["to_version"]) for u in entry.upcasters] == [(1, 2)]
        assert [f.position for f in entry.failures] == [4]
        assert "text" in entry.failures[0].error
        assert found.to_json()["event_types"][0]["versions"] == {"1": 4, "2": 1}
        tried = try_decode(app, "NoteWritten", schema_version=1, sample=3)
        assert tried.ok and tried.checked == 3
        assert tried.decoded[1]["event"] == {"text": "two words", "words": 2}
        failed = try_decode(app, "NoteWritten")
        assert not failed.ok and failed.first_failure is not None
        assert failed.first_failure.position == 4
        assert app.store.head() == 5  # Try wrote nothing


def test_snapshots_of_old_code_are_never_used_by_new_code(store_target: str) -> None:
    with open_store(store_target, create=True) as store:
        old = Application(store, bank_domain)
        run_to_end(demo(old, accounts=5, transfers=12, seed=2))
        middle = store.head() - 3
        rows_as_of(old, ["bank_accounts"], middle, every=10)  # leaves old-code snapshots
        new = Application(store, changed_bank)
        found = rows_as_of(new, ["bank_accounts"], middle, every=10)["bank_accounts"]
        assert found.snapshot == 0  # none of the old code's snapshots
        spec = new.projection("bank_accounts").spec
        assert keyed_rows(spec, found.rows) == fresh_replay(new, "bank_accounts", middle)
        again = rows_as_of(new, ["bank_accounts"], middle, every=10)["bank_accounts"]
        assert again.snapshot > 0 and keyed_rows(spec, again.rows) == keyed_rows(spec,
                                                                                found.rows)


def test_a_snapshot_table_of_the_older_format_is_made_again(tmp_path: Any) -> None:
    """Snapshots are a cache of the log: a table without the segment column (the format
    before deltas) is not read, and the first save makes it again."""
    import sqlite3

    target = str(tmp_path / "old.sqlite3")
    with Application.open(target, bank_domain, create=True) as app:
        run_to_end(demo(app, accounts=5, transfers=10, seed=2))
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE incident_row_snapshots (name TEXT, signature TEXT, "
                     "position BIGINT, row_count INTEGER, data BLOB, "
                     "PRIMARY KEY (name, signature, position))")
        conn.execute("INSERT INTO incident_row_snapshots VALUES ('bank_accounts', 'x', 1, 0, "
                     "x'00')")
    with Application.open(target, bank_domain) as app:
        head = app.store.head()
        found = rows_as_of(app, NAMES, head, every=5)
        for name in NAMES:
            assert keyed_rows(app.projection(name).spec, found[name].rows) == \
                fresh_replay(app, name, head)
        again = rows_as_of(app, NAMES, head, every=5)
        assert again["bank_accounts"].snapshot > 0
    with sqlite3.connect(target) as conn:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(incident_row_snapshots)")]
        assert "base" in columns
        assert conn.execute("SELECT count(*) FROM incident_row_snapshots "
                            "WHERE signature = 'x'").fetchone() == (0,)


def test_a_fold_over_kept_snapshots_continues_them(seeded: Application,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A shadow rebuild (or an as-of) passing snapshots made before adopts them: nothing
    is packed or written again, and the deltas it adds after them still give the
    replay's rows."""
    middle = seeded.store.head() // 2
    rows_as_of(seeded, NAMES, middle, every=5)
    shelf = SnapshotShelf(seeded.store)
    signature = code_signature(seeded, seeded.projection("transfers"))
    before = shelf.positions("transfers", signature)
    packed: list[int] = []
    real_pack = snapshots.pack
    monkeypatch.setattr(snapshots, "pack", lambda rows, removed=(): (
        packed.append(len(rows)), real_pack(rows, removed))[1])
    built = run_to_end(shadow_rebuild(seeded, "transfers", every=5))
    assert built.diff.is_empty
    after = shelf.positions("transfers", signature)
    assert after[:len(before)] == before and len(after) > len(before)
    assert len(packed) == len(after) - len(before)  # only the new ones were made
    head = seeded.store.head()
    found = rows_as_of(seeded, ["transfers"], head, every=5)["transfers"]
    assert found.snapshot > middle
    assert keyed_rows(seeded.projection("transfers").spec, found.rows) == \
        fresh_replay(seeded, "transfers", head)
    built.discard()
