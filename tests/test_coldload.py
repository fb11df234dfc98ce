"""The lean load (`engine/loading.py`, `decoder.decode_rows`, `EventLog.read_stream_rows`)
gives the state the normal path gives: a fold of `decode`d recorded events, on every
adapter, for the bank, shipping (upcasted too) and trust domains, at every version, page
by page, from a snapshot, in dispatch's load and while the stream grows; failures are the
normal path's (the decoder row by row: `test_decoder_rows.py`)."""

from __future__ import annotations

import gc
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from incident_core import Application
from incident_core.domain import Aggregate, Domain
from incident_core.engine import loading
from incident_core.engine.deciding import Decider
from incident_core.engine.decoder import decode
from incident_core.engine.loading import fold_stream
from incident_core.engine.recording import pending_from_envelope
from incident_core.engine.results import DomainCodeError, WrongAggregateType
from incident_core.examples import bank, shipping
from incident_core.examples.bank.accounts import DepositMoney, OpenAccount, WithdrawMoney
from incident_core.examples.bank.transfers import RequestTransfer
from incident_core.ports import EventStore
from incident_core.store.open import open_store
from tests import shipping_variants
from tests import trust_domain as t
from tests.shipping_data import book
from tests.test_decoder_rows import SHELF, Shelf
from tests.test_shipping_properties import scenarios
from tests.test_snapshots import variant, with_snapshots

SHARED = settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture
def store(store_target: str) -> Iterator[EventStore]:
    """One store per adapter for all examples (each example uses fresh ids)."""
    opened = open_store(store_target, create=True)
    yield opened
    opened.close()


def normal_state(domain: Domain, store: EventStore, aggregate_id: str,
                 at_version: int | None = None) -> tuple[int, BaseModel]:
    """(version, state) the normal path gives: the recorded events, each `decode`d, folded."""
    events = store.read_stream(aggregate_id, to_version=at_version)
    aggregate = domain.aggregate_named(events[0].aggregate_type)
    assert aggregate is not None
    return events[-1].version, aggregate.fold(decode(domain, e) for e in events)


def assert_lean_equals_normal(app: Application, ids: list[str]) -> int:
    """`Application.state` (the lean load) equals the normal path now and at every version;
    how many states were compared."""
    compared = 0
    for aggregate_id in ids:
        info = app.store.stream(aggregate_id)
        if info is None:
            assert app.state(aggregate_id) is None
            continue
        for version in [*range(1, info.version + 1), None]:
            found = app.state(aggregate_id, at_version=version)
            assert found is not None
            expected = normal_state(app.domain, app.store, aggregate_id, version)
            assert (found.version, found.state) == expected, (aggregate_id, version)
            compared += 1
        assert_dispatch_loads_equal_normal(app, info.aggregate_type, aggregate_id)
    return compared


def assert_dispatch_loads_equal_normal(app: Application, aggregate_type: str,
                                       aggregate_id: str) -> None:
    """Dispatch's load on a cache miss (a fresh decide step), from the store and inside a
    write transaction, equals the normal path too."""
    aggregate = app.domain.aggregate_named(aggregate_type)
    assert aggregate is not None
    expected = normal_state(app.domain, app.store, aggregate_id)
    assert Decider(app.domain, app.store).load(aggregate, aggregate_id, app.store) == expected
    with app.store.transaction() as tx:
        assert Decider(app.domain, app.store).load(aggregate, aggregate_id, tx) == expected


# -- every domain, every adapter ----------------------------------------------------------
bank_steps = st.lists(st.tuples(st.sampled_from(["open", "deposit", "withdraw", "transfer"]),
                                st.sampled_from(["a", "b"]), st.integers(1, 60)), max_size=25)


def bank_command(kind: str, account: str, amount: int, prefix: str) -> Any:
    account_id, other = f"{prefix}-{account}", f"{prefix}-{'b' if account == 'a' else 'a'}"
    if kind == "open":
        return OpenAccount(aggregate_id=account_id)
    if kind == "deposit":
        return DepositMoney(aggregate_id=account_id, amount=amount)
    if kind == "withdraw":
        return WithdrawMoney(aggregate_id=account_id, amount=amount)
    return RequestTransfer(aggregate_id=f"{prefix}-t{amount}", source_account_number=account_id,
                           destination_account_number=other, amount=amount)


@SHARED
@given(bank_steps)
def test_bank_lean_state_equals_the_normal_path(store: EventStore,
                                                steps: list[tuple[str, str, int]]) -> None:
    prefix = uuid.uuid4().hex[:8]
    app = Application(store, bank.domain)
    for kind, account, amount in steps:
        app.dispatch(bank_command(kind, account, amount, prefix))
    ids = [s.aggregate_id for s in store.streams(pattern=f"{prefix}-*", limit=1000)]
    assert_lean_equals_normal(Application(store, bank.domain), [*ids, f"{prefix}-none"])


@SHARED
@given(scenarios())
def test_shipping_lean_state_equals_the_normal_path(
        store: EventStore, scenario: tuple[list[str], str, list[Any]]) -> None:
    shipment_ids, vessel, commands = scenario
    app = Application(store, shipping.domain)
    for command in commands:
        app.dispatch(command)
    assert_lean_equals_normal(Application(store, shipping.domain), [*shipment_ids, vessel])


posts = st.lists(st.builds(
    t.Post, aggregate_id=st.sampled_from([uuid.UUID(int=1), uuid.UUID(int=2)]),
    legs=st.lists(st.builds(t.Leg, account=st.sampled_from(["a", "b"]),
                            amount=st.integers(-1000, 1000),
                            rate=st.floats(-1e6, 1e6, allow_nan=False)), max_size=2),
    money=st.one_of(st.builds(t.Money, amount=st.integers(0, 9)),
                    st.builds(t.EuroMoney, amount=st.integers(0, 9))),
    kind=st.sampled_from(list(t.Kind))), max_size=8)


@SHARED
@given(posts)
def test_trust_lean_state_equals_the_normal_path(store: EventStore,
                                                 drawn: list[t.Post]) -> None:
    t.FAIL["auditor"] = False
    base = uuid.uuid4()
    app = Application(store, t.domain)
    ids = set()
    for post in drawn:
        own = uuid.UUID(int=base.int ^ uuid.UUID(str(post.aggregate_id)).int)
        ids.add(str(own))
        app.dispatch(post.model_copy(update={"aggregate_id": own}))
    assert_lean_equals_normal(Application(store, t.domain), sorted(ids))


def test_upcasted_events_load_as_the_normal_path_decodes_them(store: EventStore) -> None:
    """Bookings recorded at schema version 1 load through the v2 domain's upcaster."""
    writer = Application(store, shipping.domain)
    shipment = str(uuid.uuid4())
    booking = book(shipment, vessel_id=None)
    assert writer.dispatch(booking).ok
    assert writer.dispatch(shipping.CancelShipment(aggregate_id=shipment, reason="x")).ok
    reader = Application(store, shipping_variants.v2)
    rows = store.read_stream_rows(shipment)
    assert [r[3] for r in rows][:1] == [1]  # stored at version 1: the upcaster runs
    assert assert_lean_equals_normal(reader, [shipment]) == len(rows) + 1
    found = reader.state(shipment)
    assert found is not None and found.state == shipping_variants.ShipmentV2(
        incoterm="FOB", weight_kg=booking.weight_kg)


def test_a_transaction_reads_its_own_rows(store: EventStore) -> None:
    """Inside a write transaction the rows include its own (perhaps buffered) appends."""
    app = Application(store, bank.domain)
    key = f"tx-{uuid.uuid4().hex[:6]}"
    app.dispatch(OpenAccount(aggregate_id=key))
    with store.transaction() as tx:
        tx.append([pending_from_envelope({
            "event_id": str(uuid.uuid4()), "aggregate_id": key, "aggregate_type": "Account",
            "event_type": "MoneyDeposited", "version": v,
            "recorded_at": "2026-01-01T00:00:00+00:00", "data": {"amount": v},
            "metadata": {}}) for v in (2, 3)])
        rows = tx.read_stream_rows(key, after_version=1)
        assert [(r[0], r[2], _data(r[4])) for r in rows] == [
            (2, "MoneyDeposited", {"amount": 2}), (3, "MoneyDeposited", {"amount": 3})]
        assert Decider(bank.domain, store).load(bank.account, key, tx) == (
            3, bank.account.initial_state.model_copy(update={"account_number": key,
                                                             "balance": 5}))
        assert [r[0] for r in tx.read_stream_rows(key)] == [1, 2, 3]


def _data(data: str | dict[str, Any]) -> dict[str, Any]:
    return json.loads(data) if isinstance(data, str) else data


def test_the_load_names_failures_and_leaves_the_collector_on(store: EventStore) -> None:
    key = f"shelf-{uuid.uuid4().hex[:6]}"
    app = Application(store, SHELF)
    app.import_events([
        {"event_id": str(uuid.uuid4()), "aggregate_id": key, "aggregate_type": "Shelf",
         "event_type": et, "version": n, "recorded_at": "2026-01-01T00:00:00+00:00",
         "schema_version": 2 if et == "Renamed" else 1, "data": data, "metadata": {}}
        for n, (et, data) in enumerate([("Priced", {"price": "1", "label": "a"}),
                                        ("Renamed", {"title": "b"}),
                                        ("Renamed", {"title": "boom"})], start=1)])
    found = app.state(key, at_version=2)
    assert found is not None and found.state == Shelf(prices=(Decimal(1),), labels=("a", "b"))
    assert gc.isenabled()
    with pytest.raises(DomainCodeError, match=r"Shelf\.apply"):
        app.state(key)
    assert gc.isenabled()
    other = Aggregate("Other", Shelf())
    with pytest.raises(WrongAggregateType):
        fold_stream(SHELF, store, other, key, (0, Shelf()))
    assert gc.isenabled()


def test_damaged_text_fails_as_the_normal_path_fails(tmp_path: Any) -> None:
    """Text that is not JSON (changed outside Incident) is read again through
    `read_stream`, so the load fails exactly as reading the recorded events does."""
    path = tmp_path / "damaged.sqlite3"
    with Application.open(str(path), bank.domain, create=True) as app:
        app.dispatch(OpenAccount(aggregate_id="acc"))
        app.dispatch(DepositMoney(aggregate_id="acc", amount=3))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE incident_events SET data = '{not json' WHERE version = 2")
    conn.close()
    with Application.open(str(path), bank.domain) as app:
        found = app.state("acc", at_version=1)
        assert found is not None and found.version == 1
        with pytest.raises(Exception) as lean:
            app.state("acc")
        with pytest.raises(Exception) as normal:
            normal_state(bank.domain, app.store, "acc")
    assert (type(lean.value), str(lean.value)) == (type(normal.value), str(normal.value))


@pytest.mark.parametrize("every", [None, 4])
def test_long_streams_fold_page_by_page(store: EventStore, every: int | None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`state` reads, decodes and folds PAGE versions at a time (here 3), from the first
    event or from a snapshot, and gives the normal path's state at every version."""
    monkeypatch.setattr(loading, "PAGE", 3)
    domain = bank.domain if every is None else variant(bank.domain,
                                                       with_snapshots(bank.account, every))
    app = Application(store, domain)
    key = f"long-{uuid.uuid4().hex[:6]}"
    app.dispatch(OpenAccount(aggregate_id=key))
    for amount in range(1, 12):
        app.dispatch(DepositMoney(aggregate_id=key, amount=amount))
    assert assert_lean_equals_normal(Application(store, domain), [key]) == 13
    if every is not None:
        assert store.snapshot_versions([key]) == {key: 12}


def test_a_stream_growing_while_it_is_loaded_gives_a_state_of_the_log(
        shared_target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages are read one after another while another writer appends: every state read
    equals the normal path's at the version it reports (never a mix of two moments)."""
    monkeypatch.setattr(loading, "PAGE", 2)
    key = f"grow-{uuid.uuid4().hex[:6]}"
    with Application.open(shared_target, bank.domain, create=True) as writer, \
            Application.open(shared_target, bank.domain) as reader:
        writer.dispatch(OpenAccount(aggregate_id=key))
        done = threading.Event()

        def write() -> None:
            for amount in range(1, 80):
                writer.dispatch(DepositMoney(aggregate_id=key, amount=amount))
            done.set()

        thread = threading.Thread(target=write)
        thread.start()
        seen = set()
        while not done.is_set() or len(seen) < 2:
            found = reader.state(key)
            assert found is not None
            assert (found.version, found.state) == normal_state(
                bank.domain, reader.store, key, found.version)
            seen.add(found.version)
        thread.join()
        assert reader.state(key) == writer.state(key)
