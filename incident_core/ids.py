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
_VERSION_VARIANT = (0x7 << 76) | (0b10 << 62)

class _Clock:
    """The last timestamp and counter used (one per process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_ms = 0
        self.counter = 0

    def next(self, now_ms: int) -> tuple[int, int]:
        """(timestamp, counter) for the next id; call with `lock` held."""
        if now_ms > self.last_ms:
            self.last_ms = now_ms
            self.counter = int.from_bytes(os.urandom(6)) & _SEED_MASK
        elif self.counter < _COUNTER_MAX:
            self.counter += 1
        else:  # a millisecond's counter spent (or a clock far behind): borrow the next one
            self.last_ms += 1
            self.counter = int.from_bytes(os.urandom(6)) & _SEED_MASK
        return self.last_ms, self.counter

    def after_fork(self) -> None:
        self.lock = threading.Lock()  # a lock held by another thread at fork stays held


_clock = _Clock()
os.register_at_fork(after_in_child=_clock.after_fork)


def new_id() -> str:
    """A new UUIDv7 in its text form; greater than every id this process made before."""
    now_ms = time.time_ns() // 1_000_000
    with _clock.lock:
        ms, counter = _clock.next(now_ms)
    value = ((ms & 0xFFFF_FFFF_FFFF) << 80 | _VERSION_VARIANT
             | (counter >> 30) << 64 | (counter & 0x3FFF_FFFF) << 32
             | int.from_bytes(os.urandom(4)))
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def id_time_ms(text: str) -> int | None:
    """The Unix time in milliseconds a UUIDv7 was made at; None for other ids."""
    h = text.replace("-", "")
    if len(h) != 32 or h[12] != "7":
        return None
    try:
        return int(h[:12], 16)
    except ValueError:
        return None
