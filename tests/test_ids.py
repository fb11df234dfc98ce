"""The ids module's text form and its pool of random bytes (threads: `test_schema4.py`)."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from incident_core import ids
from incident_core.ids import new_id


def test_the_text_form_is_the_uuid_of_the_rfc_layout() -> None:
    """Time, version, counter, variant and random bits land where RFC 9562 puts them."""
    made = [new_id() for _ in range(5000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    counters = []
    for text in made:
        value = uuid.UUID(text)
        assert (str(value), value.version, value.variant) == (text, 7, uuid.RFC_4122)
        counters.append((value.int >> 64 & 0xFFF) << 30 | (value.int >> 32 & 0x3FFF_FFFF))
    same_ms = [(a, b) for a, b, x, y in zip(counters, counters[1:], made, made[1:],
                                            strict=False) if x[:13] == y[:13]]
    assert same_ms and all(b == a + 1 for a, b in same_ms)  # a counter within a millisecond


def test_random_bits_differ_across_a_refill_of_the_pool() -> None:
    lows = {uuid.UUID(new_id()).int & 0xFFFF_FFFF for _ in range(3 * ids._POOL // 4)}
    assert len(lows) > 3 * ids._POOL // 4 - 5  # 32 fresh bits each (a few collide by chance)


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    new_id()  # the parent's pool holds unused bytes now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids, then leave at once
        os.write(write, " ".join(new_id() for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = pipe.read().split()
    parent = [new_id() for _ in range(50)]
    lows = {text[-8:] for text in parent}
    assert len(child) == 50 and not lows & {text[-8:] for text in child}


def test_the_kept_text_of_the_first_groups_follows_the_counter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Within one millisecond the counter crosses the bits of the third and second groups
    (whose text is kept between ids), and a spent counter borrows the next millisecond."""
    clock = ids._Clock()
    clock.last_ms = time.time_ns() // 1_000_000 + 60_000  # the wall clock is behind: count
    for start in ((1 << 30) - 3, (5 << 16) - 2, ids._COUNTER_MAX - 2):
        clock.counter = start
        monkeypatch.setattr(ids, "_clock", clock)
        ms = clock.last_ms
        made = [new_id() for _ in range(5)]
        assert made == sorted(made)
        values = [uuid.UUID(text) for text in made]
        assert all(str(v) == t and v.version == 7 for v, t in zip(values, made, strict=True))
        got = [((v.int >> 80), (v.int >> 64 & 0xFFF) << 30 | (v.int >> 32 & 0x3FFF_FFFF))
               for v in values]
        if start == ids._COUNTER_MAX - 2:  # two left, then the next millisecond's seed
            assert got[:2] == [(ms, start + 1), (ms, start + 2)]
            assert all(m == ms + 1 for m, _ in got[2:])
            assert [c for _, c in got[2:]] == list(range(got[2][1], got[2][1] + 3))
        else:
            assert got == [(ms, start + n) for n in range(1, 6)]
