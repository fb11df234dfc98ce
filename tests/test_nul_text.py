"""A NUL character (`\\x00`) is accepted or refused the same way on every adapter.

PostgreSQL keeps no NUL in a text column; SQLite and memory would. So:

- a projection row holding one in a text column is refused before anything is written,
  naming the projection and the column (`ValueRefused`), on memory, SQLite and PostgreSQL,
  live and in a rebuild;
- event data and metadata are stored as JSON text, where a NUL is written `\\u0000`: a
  command whose values hold one is recorded and read back equal everywhere;
- a parked saga step's error and a saga command's rejection keep each NUL written `\\x00`;
- a value stored in a text column of the log itself (the aggregate id, the correlation,
  causation and command ids, an idempotency key) is refused naming it, before anything is
  written or looked up; an import refuses such a line naming it.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from enum import Enum
from typing import Literal

import pytest
from pydantic import BaseModel

from incident_core import (
    Aggregate,
    Application,
    Command,
    Decision,
    Domain,
    Event,
    ProcessManager,
    Projection,
    Rejection,
    SagaContext,
    State,
)
from incident_core.envelope import RecordedEvent
from incident_core.operations.export_import import export_events, import_events
from incident_core.operations.import_checks import ImportFileError
from incident_core.progress import run_to_end
from incident_core.projections.definition import RowRefused
from incident_core.values import ValueRefused
from tests.row_truth_domain import Grade, Read, meters_domain

Form = Literal["model", "dict"]


class Say(Command):
    text: str
    words: dict[str, list[str]] = {}


class Said(Event):
    text: str
    words: dict[str, list[str]]


class Lines(State):
    said: tuple[str, ...] = ()


speaker = Aggregate("Speaker", Lines())


@speaker.executes(Say)
def say(state: Lines, cmd: Say) -> Decision:
    return Said(text=cmd.text, words=cmd.words)


@speaker.applies(Said)
def said(state: Lines, event: Said) -> Lines:
    return Lines(said=(*state.said, event.text))


class Answer(Command):
    text: str


@speaker.executes(Answer)
def answer(state: Lines, cmd: Answer) -> Decision:
    return Rejection("no_answer", f"nothing to say to {cmd.text}")


echo = ProcessManager("echo")


@echo.on(Said)
def echo_said(event: Said, recorded: RecordedEvent, ctx: SagaContext) -> None:
    ctx.dispatch(Answer(aggregate_id=f"answer-{recorded.aggregate_id}", text=event.text))
    if event.text.startswith("fail"):
        raise ValueError(f"cannot echo {event.text}")


speakers = Domain("speakers", aggregates=[speaker])
echoes = Domain("echoes", aggregates=[speaker], process_managers=[echo])


def _reading(meter: str, note: str | None) -> Read:
    return Read(aggregate_id=meter, delta=1, level=1.5, price=Decimal("2.50"),
                grade=Grade.LOW, note=note)


@pytest.mark.parametrize("form", ["model", "dict"])
def test_a_row_with_a_nul_in_a_text_column_is_refused_on_every_adapter(
        store_target: str, form: Form) -> None:
    app = Application.open(store_target, meters_domain(form), create=True)
    try:
        assert app.dispatch(_reading("m1", "fine")).ok
        with pytest.raises(ValueRefused, match=r"invalid Read: projection meters\.note: holds "
                           r"a NUL character .*\(row 'm1', on Reading\)") as refused:
            app.dispatch(_reading("m1", "a\x00b"))
        assert refused.value.error_type == "unrepresentable_value"
        assert refused.value.path == ("projection meters", "note")
        with pytest.raises(ValueRefused, match=r"projection meters\.note: holds a NUL"):
            app.dispatch_many([_reading("m2", "ok"), _reading("m2", "\x00")])
        assert app.store.head() == 1
        rows = list(app.store.projection_rows(app.projection("meters").spec))
        assert [(r["aggregate_id"], r["note"]) for r in rows] == [("m1", "fine")]
    finally:
        app.close()


def test_a_row_changed_in_place_is_refused_with_its_own_error_type(store_target: str) -> None:
    app = Application.open(store_target, meters_domain("model"), create=True)
    try:
        assert app.dispatch(_reading("m1", None)).ok
        mistaken = _reading("m1", None).model_copy(update={"mistake": "in_place"})
        with pytest.raises(ValueRefused) as refused:
            app.dispatch(mistaken)
        assert refused.value.error_type == "changed_in_place"
        assert refused.value.details[0]["type"] == "changed_in_place"
        assert app.store.head() == 1
    finally:
        app.close()


def test_event_data_and_metadata_holding_a_nul_are_kept_on_every_adapter(
        store_target: str) -> None:
    text, words = "a\x00b", {"k\x00ey": ["\x00", "x"]}
    app = Application.open(store_target, speakers, create=True)
    try:
        assert app.dispatch(Say(aggregate_id="s1", text=text, words=words),
                            metadata={"note": "n\x00te"}).ok
        [recorded] = app.store.read_stream("s1")
        assert recorded.data == {"text": text, "words": words}
        assert recorded.metadata["note"] == "n\x00te"
        assert app.state("s1").state == Lines(said=(text,))
    finally:
        app.close()


@pytest.mark.parametrize("where", ["aggregate_id", "correlation_id", "causation_id",
                                   "idempotency_key"])
def test_a_nul_in_a_text_column_of_the_log_is_refused_naming_it(
        store_target: str, where: str) -> None:
    app = Application.open(store_target, speakers, create=True)
    try:
        key = None
        if where == "aggregate_id":
            command, metadata = Say(aggregate_id="s\x001", text="t"), None
            path: tuple[str, ...] = ("aggregate_id",)
        elif where == "idempotency_key":  # the command id: looked up, then stored
            command, metadata, key = Say(aggregate_id="s1", text="t"), None, "k\x00"
            path = ("idempotency_key",)
        else:
            command, metadata = Say(aggregate_id="s1", text="t"), {where: "x\x00"}
            path = ("metadata", where)
        with pytest.raises(ValueRefused, match="holds a NUL character") as refused:
            app.dispatch(command, metadata=metadata, idempotency_key=key)
        assert refused.value.path == path
        assert app.store.head() == 0
        assert app.dispatch(Say(aggregate_id="s1", text="t")).ok  # nothing kept, all well
    finally:
        app.close()


def test_a_saga_error_or_rejection_holding_a_nul_is_kept_alike_on_every_adapter(
        store_target: str) -> None:
    """A parked step's error and traceback and a saga command's rejection are messages for
    people: each NUL is kept written `\\x00`, on every adapter (PostgreSQL refused to park
    the step, which SQLite and memory parked)."""
    app = Application.open(store_target, echoes, create=True)
    try:
        result = app.dispatch(Say(aggregate_id="s1", text="fail\x00"))
        assert result.ok
        [step] = app.parked_steps()
        assert step.error == "ValueError: cannot echo fail\\x00"
        assert "ValueError: cannot echo fail\\x00" in step.traceback
        result = app.dispatch(Say(aggregate_id="s2", text="quiet\x00"))
        assert result.ok and result.saga_failures == ()
        [rejected] = app.store.saga_outcomes(correlation_id=result.events[0].correlation_id
                                             or "")
        assert (rejected.reason, rejected.detail) == ("no_answer",
                                                      "nothing to say to quiet\\x00")
    finally:
        app.close()


def _exported(text: str) -> str:
    """One exported line: a Said event whose data holds `text`."""
    source = Application.open("memory:", speakers, create=True)
    try:
        assert source.dispatch(Say(aggregate_id="s1", text=text)).ok
        out = io.StringIO()
        run_to_end(export_events(source.store, out))
        return out.getvalue().strip()
    finally:
        source.close()


@pytest.mark.parametrize("field", ["aggregate_id", "event_id", "correlation_id"])
def test_an_import_refuses_a_nul_in_the_logs_text_columns_alike(
        store_target: str, field: str) -> None:
    line = json.loads(_exported("t"))
    if field == "correlation_id":
        line["metadata"][field] = "c\x00"
    else:
        line[field] = line[field] + "\x00"
    app = Application.open(store_target, speakers, create=True)
    try:
        with pytest.raises(ImportFileError, match=f"line 1: .*{field} holds a NUL"):
            run_to_end(import_events(app, [json.dumps(line)]))
        assert app.store.head() == 0
        assert run_to_end(import_events(app, [_exported("a\x00b")])) == 1  # in data: kept
        [event] = app.store.read_stream("s1")
        assert event.data["text"] == "a\x00b"
    finally:
        app.close()


class Mark(Enum):
    PLAIN = "plain"
    ODD = "od\x00d"


class Marked(BaseModel):
    aggregate_id: str
    mark: Mark


def test_an_enum_member_whose_text_holds_a_nul_is_refused_by_the_fold() -> None:
    marks: Projection[Marked] = Projection("marks", Marked)
    fine = Marked(aggregate_id="a", mark=Mark.PLAIN)
    assert marks.exact(fine.__dict__) and marks.kept(None, None, fine) is fine
    odd = Marked(aggregate_id="a", mark=Mark.ODD)
    assert not marks.exact(odd.__dict__)
    with pytest.raises(RowRefused, match="mark: holds a NUL character"):
        marks.kept(None, None, odd)
    assert not marks.exact({"aggregate_id": "a\x00", "mark": Mark.PLAIN})


def test_a_read_by_a_text_holding_a_nul_finds_nothing_on_every_adapter(
        store_target: str) -> None:
    """No key, id or pattern the log keeps holds a NUL (they are refused on the way in), so
    a read asking for one finds nothing, alike everywhere: PostgreSQL used to refuse the
    parameter (a StoreError) and SQLite cut the text at the NUL (`A\\x00*` matched `A`)."""
    from incident_core.examples.bank import OpenAccount
    from incident_core.examples.bank import domain as bank
    from incident_core.ports import EventFilter
    from incident_core.ports.sorting import SortKey

    app = Application.open(store_target, bank, create=True)
    try:
        (event,) = app.dispatch(OpenAccount(aggregate_id="A")).events  # type: ignore[union-attr]
        s, nul = app.store, "\x00"
        by_position, by_id = SortKey("position"), SortKey("aggregate_id")
        filters = [EventFilter(aggregate_id="A" + nul), EventFilter(text=nul),
                   EventFilter(text="A" + nul), EventFilter(correlation_id=event.event_id + nul),
                   EventFilter(event_types=("AccountOpened" + nul,))]
        for flt in filters:
            assert s.read_events(filter=flt) == [], flt
            assert s.read_events_sorted(by_position, filter=flt) == [], flt
        for pattern in ("A" + nul + "*", nul, "*" + nul):
            assert s.streams(pattern=pattern) == [] and s.stream_count(pattern=pattern) == 0
            for sort in (by_id, SortKey("last_position")):
                assert s.streams_sorted(sort, pattern=pattern) == [], (pattern, sort)
        assert s.streams(aggregate_type="Account" + nul) == []
        assert s.read_stream("A" + nul) == [] and s.read_stream_rows("A" + nul) == []
        assert s.stream("A" + nul) is None and s.get_event(event.event_id + nul) is None
        for key in ("command_id", "causation_id", "correlation_id"):
            assert s.events_with_metadata(key, event.event_id + nul) == []
        assert s.event_histogram(aggregate_id="A" + nul)[1] == {}
        assert s.lineage_events("bank_accounts", "A" + nul) == []
        assert s.saga_outcomes(correlation_id=nul) == []
        assert s.latest_snapshot("A" + nul, "Account", "f") is None
        assert s.snapshot_versions(["A" + nul]) == {}
        # the same reads without the NUL still find what is there
        assert [e.event_id for e in s.read_stream("A")] == [event.event_id]
        assert s.streams(pattern="A*")[0].aggregate_id == "A"
        assert s.events_with_metadata("command_id", event.event_id)[0].event_id == event.event_id
    finally:
        app.close()
