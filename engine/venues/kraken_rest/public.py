"""Pacing of public (per-IP) endpoints, around the ``asyncio_throttle`` library.

Kraken limits public endpoints per IP address, about one request per second sustained
(:data:`limiters.costs.PUBLIC_RATE_PER_SECOND`); over it the reply is
``EGeneral:Too many requests``.  :class:`PublicThrottle` lets at most ``burst`` requests
start in any window of ``burst / rate_per_second`` seconds (sliding window), so the long-run
rate never exceeds ``rate_per_second``.  The default ``burst=1`` spaces requests at least
``1 / rate_per_second`` seconds apart.

Use: ``async with throttle: <send one public request>``.  ``asyncio_throttle`` reads
``time.monotonic`` and re-checks every ``retry_interval`` seconds while waiting; it is meant
for the live venue on the real clock, not for backtests.
"""

from __future__ import annotations

import math
from types import TracebackType

from asyncio_throttle.throttler import Throttler

from limiters.costs import PUBLIC_RATE_PER_SECOND

__all__ = ["PublicThrottle"]


class PublicThrottle:
    """At most ``burst`` public requests per ``burst / rate_per_second`` seconds.

    ``rate_per_second``: sustained requests per second (default: Kraken's per-IP rate);
    ``burst``: requests allowed back to back; ``retry_interval``: seconds between re-checks
    while waiting for a slot.
    """

    __slots__ = ("_throttler", "burst", "rate_per_second")

    def __init__(
        self,
        rate_per_second: float = PUBLIC_RATE_PER_SECOND,
        *,
        burst: int = 1,
        retry_interval: float = 0.01,
    ) -> None:
        if not math.isfinite(rate_per_second) or rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be positive, got {rate_per_second!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a positive integer, got {burst!r}")
        if not math.isfinite(retry_interval) or retry_interval <= 0:
            raise ValueError(f"retry_interval must be positive, got {retry_interval!r}")
        self.rate_per_second = float(rate_per_second)
        self.burst = burst
        self._throttler = Throttler(
            rate_limit=burst, period=burst / self.rate_per_second, retry_interval=retry_interval
        )

    @property
    def period(self) -> float:
        """Seconds of the sliding window in which at most :attr:`burst` requests start."""
        return float(self._throttler.period)

    async def acquire(self) -> None:
        """Wait until one more public request may start, and count it."""
        async with self._throttler:  # the library's own entry: acquire one slot
            pass

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def __repr__(self) -> str:
        return f"PublicThrottle(rate_per_second={self.rate_per_second}, burst={self.burst})"
