"""The checks of an import line (`operations/import_checks.py`): the fast path (one parse by
pydantic's JSON validator, the envelope's shape proven as it parses) accepts only what the
full checks accept, and gives exactly the envelope they give; what it does not prove goes
through the full checks, whose errors name the line and the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from incident_core.examples.bank import domain as bank_domain
from incident_core.operations.import_checks import ImportFileError, LineChecker, _fast
from incident_core.operations.import_full import full_envelope as _slow
from tests.hypothesis_budget import examples

TIME = "2024-05-01T08:00:00.000000+00:00"

# JSON values as an export may hold them, and some it never writes (huge integers,
# non-finite floats, lone surrogates, control characters)
scalars = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.text(max_size=8) | st.sampled_from(["\ud800", "\x00", "é😀", "1e999"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8)
GOOD = {"event_id": "e1", "aggregate_id": "A", "aggregate_type": "Account",
        "event_type": "AccountOpened", "version": 1, "recorded_at": TIME}
SPOILED = {
    "event_id": st.sampled_from(["", 7, None]), "aggregate_id": st.sampled_from(["", []]),
    "version": st.sampled_from([0, 2**63, True, 1.0, "1"]),
    "recorded_at": st.sampled_from(["2024-05-01T08:00:00+00:00", TIME + "\n", "x", 5]),
    "schema_version": st.sampled_from([1, 2, 0, 2**64]), "position": values,
    "metadata": st.none() | values,
}
metadata = st.dictionaries(st.sampled_from(["causation_id", "correlation_id", "command_type",
                                            "x"]), st.text(max_size=3) | values, max_size=3)


@st.composite
def lines(draw: st.DrawFn) -> str:
    """An envelope's line, mostly well-formed, with now and then a field spoiled, missing
    or unknown, and data and metadata of any JSON."""
    envelope: dict[str, Any] = dict(GOOD)
    envelope["data"] = draw(st.dictionaries(st.text(max_size=4), values, max_size=3))
    if draw(st.booleans()):
        envelope["metadata"] = draw(metadata)
    if draw(st.booleans()):
        envelope["schema_version"] = 1
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from([*sorted(SPOILED), "data", "event_type", "unknown"]))
        if name in SPOILED and draw(st.booleans()):
            envelope[name] = draw(SPOILED[name])
        elif name == "unknown":
            envelope[draw(st.text(max_size=3))] = 1
        else:
            envelope.pop(name, None)
    keys = draw(st.permutations(sorted(envelope)))
    return json.dumps({k: envelope[k] for k in keys}, ensure_ascii=draw(st.booleans()))


def _full(line: str) -> dict[str, Any] | str:
    try:
        return _slow(1, line)
    except ImportFileError as exc:
        return str(exc)


@settings(max_examples=examples(200), deadline=None)  # long: 2,000
@given(lines())
def test_the_fast_path_gives_what_the_full_checks_give(line: str) -> None:
    fast = _fast(line)
    if fast is not None:  # else the full checks decide (and name what is wrong)
        full = _full(line)
        assert fast == full
        assert isinstance(full, dict)
        for stored in ("data", "metadata"):  # stored as encoded: the same keys, same order
            assert json.dumps(fast[stored]) == json.dumps(full[stored])


@pytest.mark.parametrize("text", ["1e400", "NaN", "-Infinity", str(2**63), str(-(2**63) - 1)])
@pytest.mark.parametrize("where", ["data", "metadata", "nested"])
def test_a_number_the_store_cannot_hold_is_left_to_the_full_checks(text: str,
                                                                   where: str) -> None:
    value = {"deep": [1, {"n": f"<{text}>"}]} if where == "nested" else f"<{text}>"
    envelope: dict[str, Any] = {**GOOD, "data": {"account_number": "1"}, "metadata": {}}
    envelope["metadata" if where == "metadata" else "data"]["x"] = value
    line = json.dumps(envelope).replace(f'"<{text}>"', text)
    assert _fast(line) is None
    assert _fast(line.replace(text, "1")) is not None


def test_a_bad_field_deep_in_the_data_is_named_with_its_line() -> None:
    checker = LineChecker(bank_domain)
    line = json.dumps({"event_id": "e1", "aggregate_id": "A", "aggregate_type": "Account",
                       "event_type": "AccountOpened", "version": 1, "recorded_at": TIME,
                       "data": {"account_number": ["not", "text"]}})
    with pytest.raises(ImportFileError,
                       match=r"^line 90000: AccountOpened data does not decode: account_number"):
        checker.check(90_000, line)


@st.composite
def files(draw: st.DrawFn) -> list[str]:
    """The lines of a file: two streams, mostly continuing, now and then a version
    skipped or repeated, an id used twice, the wrong aggregate or event type, data that
    does not decode, a NUL, or any line of `lines()`."""
    out: list[str] = []
    versions: dict[str, int] = {}
    for number in range(draw(st.integers(1, 14))):
        if draw(st.integers(0, 7)) == 0:
            out.append(draw(lines()))
            continue
        aggregate = draw(st.sampled_from(["A", "A", "A", "B", "C\x00"]))
        version = versions.get(aggregate, 0) + draw(st.sampled_from([1, 1, 1, 1, 0, 2]))
        versions[aggregate] = version
        data = {"account_number": "1"} if version == 1 else {"amount": 5}
        if draw(st.integers(0, 9)) == 0:
            data = draw(st.sampled_from([{}, {"amount": "x"}, {"amount": 2**70}]))
        envelope = {"event_id": draw(st.sampled_from([f"e{number}"] * 4 + [f"e{number - 1}"])),
                    "aggregate_id": aggregate,
                    "aggregate_type": draw(st.sampled_from(["Account"] * 9 + ["Transfer"])),
                    "event_type": "AccountOpened" if version == 1 else "MoneyDeposited",
                    "version": version, "recorded_at": TIME, "data": data,
                    "metadata": draw(st.sampled_from([{}] * 4 + [{"causation_id": None},
                                                            {"correlation_id": "c"}]))}
        out.append(json.dumps(envelope, ensure_ascii=draw(st.booleans())))
    return out


def _outcome(check: Any) -> Any:
    try:
        return check()
    except ImportFileError as exc:
        return str(exc)


def _line(event_id: str, version: int) -> str:
    return json.dumps({"event_id": event_id, "aggregate_id": "A", "aggregate_type": "Account",
                       "event_type": "MoneyDeposited", "version": version,
                       "recorded_at": TIME, "data": {"amount": 5}})


@settings(max_examples=300, deadline=None)
@given(files(), st.integers(0, 14))
@example([_line("e1", 1), _line("e2", 2), _line("e3", 3), _line("e3", 4)], 2)
@example([_line("e1", 1), _line("e2", 2), _line("e3", 3), _line("e4", 3)], 4)
def test_checking_lines_in_batches_gives_what_checking_each_gives(file: list[str],
                                                                  cut: int) -> None:
    """`check_lines` (the import's batches, a well-formed line's path inlined) gives the
    envelopes, typed events and errors `check` gives line by line, across batches."""
    numbered = list(enumerate(file, start=1))
    one = LineChecker(bank_domain)
    each = _outcome(lambda: [(n, *one.check(n, line)) for n, line in numbered])
    batched = LineChecker(bank_domain)
    in_batches = _outcome(lambda: batched.check_lines(numbered[:cut])
                          + batched.check_lines(numbered[cut:]))
    assert in_batches == each


@pytest.mark.parametrize("time", ["2024-02-30T08:00:00.000000+00:00",
                                  "2024-05-01T24:00:00.000000+00:00",
                                  "2024-05-01T08:00:00.00000\u0663+00:00"])
def test_a_time_in_the_store_s_form_that_is_no_time_is_named_with_its_line(time: str) -> None:
    """A time the envelope's pattern takes but no calendar has (or in other digits) is
    refused at its line, after a line of the same second that was fine, in a batch as
    alone."""
    first = json.dumps({**GOOD, "recorded_at": time[:19] + ".000000+00:00" if "\u0663" in time
                        else TIME, "data": {"account_number": "1"}})
    bad = json.dumps({**GOOD, "event_id": "e2", "version": 2, "event_type": "MoneyDeposited",
                      "recorded_at": time, "data": {"amount": 1}}, ensure_ascii=False)
    for check in (lambda c: c.check_lines([(1, first), (7, bad)]),
                  lambda c: [c.check(1, first), c.check(7, bad)]):
        with pytest.raises(ImportFileError, match=r"^line 7: recorded_at .* is not an ISO"):
            check(LineChecker(bank_domain))
