"""Nonces for private Kraken calls: unsigned 64-bit integers, strictly increasing per API key.

Kraken refuses a nonce that is not above the last one it accepted for the key
(``EAPI:Invalid nonce``) and there is no way to reset it lower, so a source must never go
backwards -- not even when the wall clock steps back (NTP correction, VM resume).

:class:`WallClockNonces` (the in-process default) gives
``max(floor(wall() * per_second), last + 1)``: wall-clock milliseconds by default (what most
Kraken clients send, so a key shared with them stays valid), or microseconds with
``per_second=1_000_000``.  A burst of more than ``per_second`` calls per second runs ahead of
the wall clock by the excess and falls back onto it when the burst ends.  Changing the unit on
a key that was used with a finer one is not possible: the coarser nonces would be lower.

:class:`NonceSource` is the protocol (:mod:`engine.core.keys`): a source shared between
processes (one key, several processes) can implement it later without changing the venue.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from engine.core.keys import NonceSource

__all__ = [
    "MAX_NONCE",
    "NonceExhausted",
    "NonceSource",
    "WallClockNonces",
]

#: The largest nonce Kraken accepts: an unsigned 64-bit integer.
MAX_NONCE = 2**64 - 1


class NonceExhausted(OverflowError):
    """The next nonce would not fit in an unsigned 64-bit integer."""


class WallClockNonces:
    """Strictly increasing nonces per key, from wall-clock time (``per_second`` units per s).

    ``wall`` returns UNIX seconds (``time.time`` by default; a clock's ``wall`` method works).
    Thread-safe and asyncio-safe: each call is one atomic step.
    """

    __slots__ = ("_last", "_lock", "_wall", "per_second")

    def __init__(self, wall: Callable[[], float] = time.time, *, per_second: int = 1000) -> None:
        if isinstance(per_second, bool) or not isinstance(per_second, int) or per_second < 1:
            raise ValueError(f"per_second must be a positive integer, got {per_second!r}")
        self._wall = wall
        self.per_second = per_second
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()

    def _from_wall(self) -> int:
        now = self._wall()
        if not math.isfinite(now) or now < 0:
            return 0  # a broken clock cannot lower the nonce: last + 1 wins
        return math.floor(now * self.per_second)

    def take(self, key: str) -> int:
        """The next nonce for ``key`` (synchronous form of :meth:`next_nonce`)."""
        with self._lock:
            last = self._last.get(key, -1)
            nonce = max(self._from_wall(), last + 1)
            if nonce > MAX_NONCE:
                raise NonceExhausted("nonce would exceed 2**64 - 1")
            self._last[key] = nonce
            return nonce

    async def next_nonce(self, key: str) -> int:
        """The next nonce for ``key``."""
        return self.take(key)

    def __repr__(self) -> str:
        return f"WallClockNonces(per_second={self.per_second}, keys={len(self._last)})"
