"""Time-ordered ids: UUIDv7 (RFC 9562), the one place an event or command id is made.

Layout (128 bits): a 48-bit Unix time in milliseconds, the version (7), 12 bits of
`rand_a`, the variant (0b10), 62 bits of `rand_b`. Ids of one process are strictly
increasing (RFC 9562 §6.2, method 1): `rand_a` and the top 30 bits of `rand_b` are a 42-bit
counter, seeded at random (its top bit clear) in each new millisecond and incremented
within one; the low 32 bits are fresh randomness for every id. When the clock goes back,
or a millisecond's counter runs out, the timestamp moves on from the last one used, so
order holds whatever the wall clock does. The text of the first four groups changes only
with the millisecond and the counter's top 26 bits, so it is kept from one id to the next.

Why: ids made in order are appended to the right edge of the unique index that holds them
(full B-tree pages, few pages touched per commit) instead of landing on a random page.
The text form is the usual one (`str(uuid.UUID)`), lower-case hex with hyphens.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["id_time_ms", "new_id"]

_COUNTER_BITS = 42
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1
_SEED_MASK = (1 << (_COUNTER_BITS - 1)) - 1  # top bit clear: room to count up
_POOL = 4096  # random bytes read from the OS at once (1,024 ids' low 32 bits)
_time_ns = time.time_ns


class _Clock:
    """The last timestamp and counter used, the text of the id's groups they fix, and a
    pool of the OS's random bytes as 32-bit integers (one per process: a child made by
    fork starts a pool of its own, so it never repeats its parent's ids)."""

    __slots__ = ("counter", "head", "head_key", "last_ms", "lock", "lows")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_ms = 0
        self.counter = 0
        self.lows: list[int] = []
        self.head_key = -1  # (millisecond, counter's top 26 bits) that `head` is the text of
        self.head = ""

    def low(self) -> int:
        """32 fresh random bits (`os.urandom`, read a pool at a time); call with `lock`
        held."""
        lows = self.lows
        if not lows:
            lows.extend(memoryview(os.urandom(_POOL)).cast("I"))
        return lows.pop()

    def seed(self) -> int:
        """A new millisecond's counter: 41 random bits; call with `lock` held."""
        return (self.low() << 32 | self.low()) & _SEED_MASK

    def after_fork(self) -> None:
        self.lock = threading.Lock()  # a lock held by another thread at fork stays held
        self.lows = []


_clock = _Clock()
os.register_at_fork(after_in_child=_clock.after_fork)


def new_id() -> str:
    """A new UUIDv7 in its text form; greater than every id this process made before."""
    now_ms = _time_ns() // 1_000_000
    clock = _clock
    with clock.lock:
        if now_ms > clock.last_ms:
            clock.last_ms = now_ms
            clock.counter = counter = clock.seed()
        elif clock.counter < _COUNTER_MAX:
            clock.counter = counter = clock.counter + 1
        else:  # a millisecond's counter spent (or a clock far behind): borrow the next one
            clock.last_ms += 1
            clock.counter = counter = clock.seed()
        ms = clock.last_ms
        low = clock.lows.pop() if clock.lows else clock.low()
        key = ms << 26 | counter >> 16
        if key != clock.head_key:  # once a millisecond, mostly
            clock.head_key, clock.head = key, _head(ms, counter)
        head = clock.head
    return head + _TAIL % ((counter & 0xFFFF) << 32 | low)


def _head(ms: int, counter: int) -> str:
    """The first four groups of the text form: (48-bit time, version 7 | the counter's top
    12 bits, variant 0b10 | its next 14), and the dash after them."""
    return (f"{(ms >> 16) & 0xFFFF_FFFF:08x}-{ms & 0xFFFF:04x}-{0x7000 | counter >> 30:04x}-"
            f"{0x8000 | (counter >> 16) & 0x3FFF:04x}-")


_TAIL = "%012x"  # the last group: the counter's last 16 bits, then 32 random bits


def id_time_ms(text: str) -> int | None:
    """The Unix time in milliseconds a UUIDv7 was made at; None for other ids."""
    h = text.replace("-", "")
    if len(h) != 32 or h[12] != "7":
        return None
    try:
        return int(h[:12], 16)
    except ValueError:
        return None
