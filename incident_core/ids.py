"""Time-ordered ids: UUIDv7 (RFC 9562), the one place an event or command id is made.

Layout (128 bits): a 48-bit Unix time in milliseconds, the version (7), 12 bits of
`rand_a`, the variant (0b10), 62 bits of `rand_b`. Ids of one process are strictly
increasing (RFC 9562 §6.2, method 1): `rand_a` and the top 30 bits of `rand_b` are a 42-bit
counter, seeded at random (its top bit clear) in each new millisecond and incremented
within one; the low 32 bits are fresh randomness for every id. When the clock goes back,
or a millisecond's counter runs out, the timestamp moves on from the last one used, so
order holds whatever the wall clock does.

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


class _Clock:
    """The last timestamp and counter used, and a pool of the OS's random bytes (one per
    process: a child made by fork starts a pool of its own, so it never repeats its
    parent's ids)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_ms = 0
        self.counter = 0
        self._pool = b""
        self._used = 0

    def next(self, now_ms: int) -> tuple[int, int, int]:
        """(timestamp, counter, 32 random bits) for the next id; call with `lock` held."""
        if now_ms > self.last_ms:
            self.last_ms = now_ms
            self.counter = self.random(6) & _SEED_MASK
        elif self.counter < _COUNTER_MAX:
            self.counter += 1
        else:  # a millisecond's counter spent (or a clock far behind): borrow the next one
            self.last_ms += 1
            self.counter = self.random(6) & _SEED_MASK
        return self.last_ms, self.counter, self.random(4)

    def random(self, size: int) -> int:
        """`size` fresh random bytes from the OS (`os.urandom`, read a pool at a time) as an
        integer; call with `lock` held."""
        used = self._used
        if used + size > len(self._pool):
            self._pool, used = os.urandom(_POOL), 0
        self._used = used + size
        return int.from_bytes(self._pool[used:used + size])

    def after_fork(self) -> None:
        self.lock = threading.Lock()  # a lock held by another thread at fork stays held
        self._pool, self._used = b"", 0


_clock = _Clock()
os.register_at_fork(after_in_child=_clock.after_fork)


def new_id() -> str:
    """A new UUIDv7 in its text form; greater than every id this process made before."""
    now_ms = time.time_ns() // 1_000_000
    with _clock.lock:
        ms, counter, low = _clock.next(now_ms)
    # the groups of (48-bit time, version 7 | counter's top 12 bits, variant 0b10 | its
    # next 14, its last 16 | 32 random bits); the first two change once a millisecond
    global _prefix  # noqa: PLW0603 - a one-entry memo, replaced whole (thread-safe)
    last = _prefix
    if last[0] != ms:
        last = _prefix = (ms, f"{(ms >> 16) & 0xFFFF_FFFF:08x}-{ms & 0xFFFF:04x}-")
    return last[1] + _REST % (0x7000 | counter >> 30, 0x8000 | (counter >> 16) & 0x3FFF,
                              (counter & 0xFFFF) << 32 | low)


_REST = "%04x-%04x-%012x"  # the text form's last three groups
_prefix: tuple[int, str] = (-1, "")  # (a millisecond, its first two groups)


def id_time_ms(text: str) -> int | None:
    """The Unix time in milliseconds a UUIDv7 was made at; None for other ids."""
    h = text.replace("-", "")
    if len(h) != 32 or h[12] != "7":
        return None
    try:
        return int(h[:12], 16)
    except ValueError:
        return None
