"""Aggregate snapshots never give a state different from a full replay: for random command
sequences of the bank and of the trust domain (sagas included), on every adapter, at every
version, with a cold cache, and after the state model or `state_version` changed."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from incident_core import Application, IncidentError
from incident_core.domain import Aggregate, Domain, State
from incident_core.examples import bank
from incident_core.examples.bank.accounts import DepositMoney, OpenAccount, WithdrawMoney
from incident_core.examples.bank.transfers import RequestTransfer
from incident_core.ports import EventStore
from incident_core.process import Rejected
from incident_core.store.open import open_store
from tests import trust_domain as t

FIXTURE_OK = settings(max_examples=25, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


def with_snapshots(aggregate: Aggregate[Any], every: int, *, initial: BaseModel | None = None,
                   state_version: int = 1) -> Aggregate[Any]:
    """The same aggregate (same executors and appliers) taking snapshots."""
    copy: Aggregate[Any] = Aggregate(aggregate.name, initial or aggregate.initial_state,
                                     snapshot_every=every, state_version=state_version)
    copy._executors.update(aggregate._executors)
    copy._appliers.update(aggregate._appliers)
    return copy


def variant(domain: Domain, *aggregates: Aggregate[Any]) -> Domain:
    """`domain` (same name, projections, sagas) with some aggregates replaced."""
    replaced = {a.name: a for a in aggregates}
    made = Domain(domain.name,
                  aggregates=[replaced.get(a.name, a) for a in domain.aggregates.values()],
                  projections=list(domain.projections.values()),
                  process_managers=list(domain.process_managers.values()),
                  rejection_messages=domain.rejection_messages)
    made._upcasters.update(domain._upcasters)
    return made


def replayed(domain: Domain, app: Application, aggregate_id: str,
             to_version: int | None = None) -> BaseModel:
    """The state folded from the first event, with no snapshot and no cache."""
    events = app.store.read_stream(aggregate_id, to_version=to_version)
    aggregate = domain.aggregate_named(events[0].aggregate_type)
    assert aggregate is not None
    return aggregate.fold(domain.decode(e.event_type, e.data, e.schema_version) for e in events)


def assert_snapshots_agree(app: Application, domain: Domain, ids: list[str]) -> None:
    """state() now and at every version, and a cold load, equal a full replay."""
    cold = Application(app.store, domain)
    for aggregate_id in ids:
        info = app.store.stream(aggregate_id)
        if info is None:
            assert app.state(aggregate_id) is None
            continue
        for version in range(1, info.version + 1):
            found = app.state(aggregate_id, at_version=version)
            assert found is not None and found.version == version
            assert found.state == replayed(domain, app, aggregate_id, version)
        aggregate = domain.aggregate_named(info.aggregate_type)
        assert aggregate is not None
        assert cold.decider.load(aggregate, aggregate_id, app.store) == (
            info.version, replayed(domain, app, aggregate_id))


@pytest.fixture
def shared(store_target: str) -> Iterator[EventStore]:
    """One store per adapter for all examples (each example uses fresh aggregate ids);
    each domain variant runs over it as its own Application (a reopened process)."""
    store = open_store(store_target, create=True)
    yield store
    store.close()


BANK = variant(bank.domain, with_snapshots(bank.account, 3), with_snapshots(bank.transfer, 2))
bank_steps = st.lists(st.tuples(
    st.sampled_from(["open", "deposit", "withdraw", "transfer"]),
    st.sampled_from(["a", "b"]), st.integers(1, 60)), max_size=30)


def bank_command(kind: str, account: str, amount: int, prefix: str) -> Any:
    other = f"{prefix}-{'b' if account == 'a' else 'a'}"
    account_id = f"{prefix}-{account}"
    if kind == "open":
        return OpenAccount(aggregate_id=account_id)
    if kind == "deposit":
        return DepositMoney(aggregate_id=account_id, amount=amount)
    if kind == "withdraw":
        return WithdrawMoney(aggregate_id=account_id, amount=amount)
    return RequestTransfer(aggregate_id=f"{prefix}-t{uuid.uuid4().hex[:6]}",
                           source_account_number=account_id,
                           destination_account_number=other, amount=amount)


@FIXTURE_OK
@given(bank_steps)
def test_bank_state_via_snapshots_equals_full_replay(shared: EventStore,
                                                     steps: list[tuple[str, str, int]]) -> None:
    prefix = uuid.uuid4().hex[:8]
    app = Application(shared, BANK)
    for kind, account, amount in steps:
        app.dispatch(bank_command(kind, account, amount, prefix))
    ids = [s.aggregate_id for s in app.store.streams(pattern=f"{prefix}-*", limit=1000)]
    assert_snapshots_agree(app, BANK, ids)


def test_snapshots_are_taken_in_the_write_transaction(store_target: str) -> None:
    with Application.open(store_target, BANK, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="acc"))
        for _ in range(7):
            app.dispatch(DepositMoney(aggregate_id="acc", amount=5))
        assert app.store.snapshot_versions(["acc", "none"]) == {"acc": 6}
        before = app.store.head()
        refused = app.dispatch(WithdrawMoney(aggregate_id="acc", amount=10**6))
        assert isinstance(refused, Rejected)  # records nothing, and no snapshot
        with pytest.raises(IncidentError):  # refused at the boundary: nothing either
            app.dispatch(DepositMoney(aggregate_id="acc", amount=10**30))
        app.dispatch(DepositMoney(aggregate_id="acc", amount=1))
        app.dispatch(DepositMoney(aggregate_id="acc", amount=1))
        assert app.store.head() == before + 2
        assert app.store.snapshot_versions(["acc"]) == {"acc": 9}


# -- the trust domain: nested models, enums, datetimes, sagas writing Notes ----------------
LEDGER = variant(t.domain, with_snapshots(t.ledger, 2), with_snapshots(t.notes, 3))


class LedgerStateV2(State):
    """A changed state model: a state from the old model's snapshot would lack `kinds`."""

    posts: int = 0
    total: int = 0
    currency: str = "none"
    kinds: tuple[str, ...] = ()


def posted_v2(state: LedgerStateV2, event: t.Posted) -> LedgerStateV2:
    return LedgerStateV2(posts=state.posts + 1, total=state.total + event.total,
                         currency=getattr(event.money, "currency", "none"),
                         kinds=(*state.kinds, event.kind.value))


def posted_doubled(state: t.LedgerState, event: t.Posted) -> t.LedgerState:
    return t.LedgerState(posts=state.posts + 1, total=state.total + 2 * event.total)


def ledger_variant(initial: BaseModel, applier: Any, state_version: int) -> Domain:
    changed = with_snapshots(t.ledger, 2, initial=initial, state_version=state_version)
    changed._appliers[t.Posted] = applier
    return variant(t.domain, changed, with_snapshots(t.notes, 3))


LEDGER_V2 = ledger_variant(LedgerStateV2(), posted_v2, 1)  # new schema, same version
LEDGER_DOUBLED = ledger_variant(t.LedgerState(), posted_doubled, 2)  # same schema, bumped

posts = st.lists(st.builds(
    t.Post, aggregate_id=st.sampled_from([uuid.UUID(int=1), uuid.UUID(int=2)]),
    legs=st.lists(st.builds(t.Leg, account=st.sampled_from(["a", "b"]),
                            amount=st.integers(-1000, 1000), rate=st.just(1.0)), max_size=2),
    money=st.one_of(st.builds(t.Money, amount=st.integers(0, 9)),
                    st.builds(t.EuroMoney, amount=st.integers(0, 9))),
    kind=st.sampled_from(list(t.Kind))), max_size=10)


def fresh_id(base: uuid.UUID, n: int) -> uuid.UUID:
    return uuid.UUID(int=base.int ^ n)


def prefixed(post: t.Post, base: uuid.UUID) -> t.Post:
    """`post` on this example's own ledger (UUID ids: fresh ones for every example)."""
    number = uuid.UUID(str(post.aggregate_id)).int
    return post.model_copy(update={"aggregate_id": fresh_id(base, number)})


@pytest.fixture
def ledger_store(shared: EventStore) -> EventStore:
    t.FAIL["auditor"] = False
    return shared


@FIXTURE_OK
@given(posts, posts)
def test_trust_state_via_snapshots_equals_replay_across_model_changes(
        ledger_store: EventStore, first: list[t.Post], later: list[t.Post]) -> None:
    base = uuid.uuid4()
    ledgers = [str(fresh_id(base, n)) for n in (1, 2)]
    ids = [*ledgers, *(f"{kind}-{ledger}" for kind in ("audit", "echo") for ledger in ledgers)]
    for domain, batch in ((LEDGER, first), (LEDGER_V2, later), (LEDGER_DOUBLED, later),
                          (LEDGER, [])):
        app = Application(ledger_store, domain)
        assert_snapshots_agree(app, domain, ids)  # old snapshots: ignored, never used
        for post in batch:
            app.dispatch(prefixed(post, base))
        assert_snapshots_agree(app, domain, ids)


def test_a_changed_state_model_replaces_its_snapshots(shared_target: str) -> None:
    t.FAIL["auditor"] = False
    key = str(uuid.UUID(int=7))
    post = t.Post(aggregate_id=uuid.UUID(int=7), legs=[t.Leg(account="a", amount=3, rate=1.0)],
                  money=t.Money(amount=1), kind=t.Kind.URGENT)
    with Application.open(shared_target, LEDGER, create=True) as app:
        for _ in range(4):
            app.dispatch(post)
        assert app.store.snapshot_versions([key]) == {key: 4}
    with Application.open(shared_target, LEDGER_V2) as app:
        state = app.state(key)
        assert state is not None and state.state == LedgerStateV2(
            posts=4, total=12, kinds=("urgent",) * 4)
        app.dispatch(post)
        assert app.store.snapshot_versions([key]) == {key: 4}  # not due: old one unused
        app.dispatch(post)
        assert app.store.snapshot_versions([key]) == {key: 6}
        older = app.state(key, at_version=5)
        assert older is not None and older.state == LedgerStateV2(
            posts=5, total=15, kinds=("urgent",) * 5)


def test_a_state_that_does_not_survive_json_is_never_snapshotted() -> None:
    class Odd(State):
        value: float = 0.0

    odd: Aggregate[Odd] = Aggregate("Odd", Odd(), snapshot_every=1)
    from incident_core.engine.aggregate_snapshots import take
    assert take(odd, "o", 1, Odd(value=float("nan"))) is None
    assert take(odd, "o", 1, Odd(value=1.5)) is not None
    with pytest.raises(ValueError, match="snapshot_every"):
        Aggregate("Bad", Odd(), snapshot_every=0)


def test_incident_streams_shows_the_snapshot_version(tmp_path: Path) -> None:
    from tests.test_cli import incident, ok

    db = tmp_path / "snap.sqlite3"
    with Application.open(str(db), BANK, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="acc"))
        for _ in range(4):
            app.dispatch(DepositMoney(aggregate_id="acc", amount=5))
        app.dispatch(OpenAccount(aggregate_id="new"))
    streams = {s["aggregate_id"]: s for s in ok("streams", db=db)}
    assert streams["acc"]["snapshot_version"] == 3 and streams["acc"]["version"] == 5
    assert streams["new"]["snapshot_version"] is None
    table = incident("streams", "--format", "table", db=db).out.splitlines()
    assert table[0].split()[-1] == "snapshot_version"
    assert table[2].split()[0] == "acc" and table[2].split()[-1] == "3"
    state = ok("state", "acc", db=db)
    assert state["state"]["balance"] == 20


def test_verify_checks_snapshots_against_the_log(tmp_path: Path) -> None:
    from incident_core.operations import verify
    from incident_core.progress import run_to_end

    db = tmp_path / "verify.sqlite3"
    with Application.open(str(db), BANK, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="acc"))
        for _ in range(3):
            app.dispatch(DepositMoney(aggregate_id="acc", amount=5))
        assert run_to_end(verify(app)).ok
    conn = sqlite3.connect(db)  # a snapshot edited behind the library's back
    with conn:
        conn.execute("UPDATE incident_aggregate_snapshots SET state = "
                     "replace(state, '\"balance\":10', '\"balance\":99')")
    conn.close()
    with Application.open(str(db), BANK) as app:
        report = run_to_end(verify(app))
        assert not report.ok
        assert report.mismatches == ["snapshot acc@3: differs from a replay of the log "
                                     "(did `apply` change without bumping state_version?)"]


def test_a_store_made_before_snapshots_gets_the_table_on_first_write(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    Application.open(str(db), bank.domain, create=True).close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DROP TABLE incident_aggregate_snapshots")
    conn.close()
    with Application.open(str(db), BANK) as app:
        app.dispatch(OpenAccount(aggregate_id="acc"))
        assert app.store.snapshot_versions(["acc"]) == {}  # read as empty while absent
        for _ in range(5):
            app.dispatch(DepositMoney(aggregate_id="acc", amount=1))
        assert app.store.snapshot_versions(["acc"]) == {"acc": 6}
    with Application.open(str(db), BANK) as app:
        state = app.state("acc")
        assert state is not None and state.state.balance == 5
