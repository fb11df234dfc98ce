"""An import's rows built straight from the parsed envelopes (`store.sql.import_rows`) are
exactly the rows the store builds for an appended event (`slim.slim_row` of the pending
event, its data in pydantic's text as a dispatch stores it), for any metadata: ids lifted or
not, a command type last or elsewhere, empty or odd values; and an imported event's
metadata reads back as the envelope's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from incident_core import Application, ConcurrencyError, StoreError
from incident_core.engine.recording import _canonical, pending_from_envelope
from incident_core.envelope import canonical_time, format_time
from incident_core.examples.bank import domain
from incident_core.store.sql.import_rows import _micros, event_rows
from incident_core.store.sql.slim import CHAIN, slim_row
from incident_core.store.sql.times import stored_time
from tests.hypothesis_budget import examples

text = st.text(max_size=8)
ids = st.sampled_from(["", "ev", "c1", "c2"]) | st.uuids().map(str) | st.none() | st.integers()
scalars = st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | text \
    | st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(text, inner, max_size=3), max_leaves=6)


@st.composite
def metadatas(draw: st.DrawFn, event_id: str) -> dict[str, Any]:
    """Metadata as exports carry it: the chain's ids (often the event's own, or each
    other's), a command type (last, or not), other keys, in any order."""
    pool = [event_id, event_id, "c1", "c2", ""]
    items: list[tuple[str, Any]] = []
    for key in CHAIN:
        if draw(st.booleans()):
            items.append((key, draw(st.sampled_from(pool) | ids)))
    items += list(draw(st.dictionaries(text.filter(lambda k: k not in CHAIN), values,
                                       max_size=2)).items())
    items = draw(st.permutations(items)) if items else items
    if draw(st.booleans()):
        items.append(("command_type", draw(st.sampled_from(["DepositMoney", ""]) | values)))
    return dict(items)


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    event_id = draw(st.sampled_from(["ev", str(uuid4())]))
    return {"event_id": event_id, "aggregate_id": draw(st.text(min_size=1, max_size=5)),
            "aggregate_type": "Account", "event_type": "MoneyDeposited",
            "version": draw(st.integers(1, 2**31 - 1)),
            "recorded_at": "2026-12-01T12:34:56.123456+00:00",
            "schema_version": draw(st.integers(1, 3)),
            "data": draw(st.dictionaries(text, values, max_size=4)),
            "metadata": draw(metadatas(event_id))}


def _as_dispatched(command_type: Any, *ids: str) -> dict[str, Any]:
    """An envelope whose metadata has the three ids and a command type, nothing else."""
    metadata = dict(zip(("correlation_id", "causation_id", "command_id"), ids, strict=True))
    return {"event_id": "ev", "aggregate_id": "A", "aggregate_type": "Account",
            "event_type": "MoneyDeposited", "version": 1, "schema_version": 1,
            "recorded_at": "2026-12-01T12:34:56.123456+00:00", "data": {"é": 1e-7},
            "metadata": {**metadata, "command_type": command_type}}


@settings(max_examples=examples(200), deadline=None)  # long: 2,000
@given(batch=st.lists(envelopes(), min_size=1, max_size=4), first=st.integers(1, 10**6))
@example(batch=[_as_dispatched([1], "c", "c", "c"), _as_dispatched("Deposit", "c", "b", "ev"),
                _as_dispatched("Deposit", "ev", "ev", "ev"), _as_dispatched("", "a", "b", "c")],
         first=7)
def test_rows_are_the_rows_an_append_builds(batch: list[dict[str, Any]], first: int) -> None:
    batch = [json.loads(json.dumps(e)) for e in batch]  # as parsed from a line
    rows, streams, recorded = event_rows(batch, first)
    cache: dict[str, Any] = {}
    expected = [slim_row(pending_from_envelope(e), first + i, cache)  # data as dispatch keeps it
                for i, e in enumerate(batch)]
    assert rows == expected
    for envelope, event, position in zip(batch, recorded, range(first, first + len(batch)),
                                         strict=True):
        assert event.position == position
        assert event.metadata == envelope["metadata"]
        assert event.to_json() == {**envelope, "position": position}
    last = {e["aggregate_id"]: e for e in batch}
    assert {k: (s["version"], s["event_count"]) for k, s in streams.items()} == {
        k: (e["version"], sum(1 for x in batch if x["aggregate_id"] == k))
        for k, e in last.items()}


@pytest.mark.parametrize("target", ["memory:", "sqlite"])
def test_the_api_import_appends_through_the_same_rows(target: str, tmp_path: Path) -> None:
    """`Application.import_events` appends through the same row builder (SQL) or as pending
    events (memory): the same events read back, and a bad envelope is refused as a whole."""
    path = "memory:" if target == "memory:" else str(tmp_path / "s.sqlite3")
    envelope = {"event_id": "e1", "aggregate_id": "A", "aggregate_type": "Account",
                "event_type": "AccountOpened", "version": 1,
                "recorded_at": "2026-12-01T13:34:56.123456+01:00",
                "data": {"account_number": "1"},
                "metadata": {"command_id": "c1", "command_type": "OpenAccount"}}
    with Application.open(path, domain, create=True) as app:
        with pytest.raises(StoreError, match="metadata"):
            app.import_events([{**envelope, "event_id": "e0"}, {**envelope, "metadata": [1]}])
        live = app.import_events([envelope])
        assert app.store.event_count() == 1
        stored = app.store.read_events()[0]
        assert live[0].to_json() == stored.to_json() == {
            **envelope, "recorded_at": "2026-12-01T12:34:56.123456+00:00", "position": 1,
            "schema_version": 1}
        assert app.store.projection_rows(domain.projections["bank_accounts"].spec)[0][
            "account_number"] == "1"


@settings(max_examples=300, deadline=None)
@given(moments=st.lists(st.datetimes(timezones=st.just(UTC)), min_size=1, max_size=4),
       odd=st.sampled_from(["", "2026-12-01T12:34:56.12345\uff16+00:00",
                            "2026-12-01T12:34:56.1_2345+00:00",
                            "2026-12-01T13:34:56.123456+01:00"]))
def test_the_time_of_a_row_is_what_the_store_keeps(moments: list[datetime], odd: str) -> None:
    """The row's `recorded_at` (the second remembered, the fraction added) is
    `stored_time`'s for any time in the store's form, in any order; other text goes
    through `stored_time` itself (its error included)."""
    texts = [format_time(m) for m in moments]
    for text in [*texts, *reversed(texts)]:
        assert _micros(text) == stored_time(text)
    if odd:
        try:
            expected: int | type[Exception] = stored_time(odd)
        except ValueError:
            expected = ValueError
        if expected is ValueError:
            with pytest.raises(ValueError):
                _micros(odd)
        else:
            assert _micros(odd) == expected


def test_rows_that_take_a_stream_version_are_a_conflict_naming_it(tmp_path: Path) -> None:
    """Tuple rows written at once (`append_rows`) report a taken stream version as every
    append does (`ConcurrencyError` for that stream and version), and write nothing."""
    path = str(tmp_path / "s.sqlite3")
    envelope = {"event_id": "e1", "aggregate_id": "A", "aggregate_type": "Account",
                "event_type": "AccountOpened", "version": 1, "schema_version": 1,
                "recorded_at": "2026-12-01T12:34:56.123456+00:00",
                "data": {"account_number": "1"}, "metadata": {}}
    with Application.open(path, domain, create=True) as app:
        app.import_events([envelope])
        with pytest.raises(ConcurrencyError) as caught, app.store.transaction() as tx:
            tx.append_envelopes([{**envelope, "event_id": "e2"}])
        assert (caught.value.aggregate_id, caught.value.version) == ("A", 1)
        assert [e.event_id for e in app.store.read_events()] == ["e1"]


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]))
                      .map(lambda m: m.isoformat(timespec="microseconds"))
                      | st.sampled_from(["2026-12-01T12:34:56.123456+00:00",
                                         "2026-12-01T12:34:56.12345\uff16+00:00",
                                         "2026-12-01T12:34:56.1_2345+00:00",
                                         "2026-02-30T12:34:56.123456+00:00",
                                         "2026-12-01T12:34:56", "x"]), max_size=6))
def test_the_api_import_keeps_times_as_canonical_time_gives_them(texts: list[str]) -> None:
    """`Application.import_events`' times (`recording._canonical`: a text in the store's
    form within the last such second taken as it is) are `canonical_time`'s, errors too."""
    for text in texts:
        try:
            expected: str | type[Exception] = canonical_time(text)
        except ValueError:
            expected = ValueError
        if expected is ValueError:
            with pytest.raises(ValueError):
                _canonical(text)
        else:
            assert _canonical(text) == expected
