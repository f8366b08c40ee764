"""The simulated exchange's time on a real clock.

:class:`SimulatedKraken` takes ``now`` in clock seconds and reads UNIX time as
``epoch + now``.  Served over HTTP, its clock is the event loop's :class:`RealClock`
shifted so that the exchange starts at ``now() == 0`` (its price paths start at 0), with
``epoch`` the UNIX time at that moment: deadlines and timestamps in replies then agree
with the clients' wall clocks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from engine.clock import RealClock

__all__ = ["ExchangeClock"]


class ExchangeClock:
    """A :class:`~engine.clock.Clock`: the running loop's time minus its value at start.

    ``epoch`` is the UNIX time (s) at ``now() == 0``.  Create it inside the running loop.
    """

    __slots__ = ("_origin", "_real", "epoch")

    def __init__(self, real: RealClock | None = None) -> None:
        self._real = real if real is not None else RealClock(asyncio.get_running_loop())
        self._origin = self._real.now()
        self.epoch = time.time()

    def now(self) -> float:
        """Seconds since the exchange started (monotonic)."""
        return self._real.now() - self._origin

    def wall(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return self._real.call_at(when + self._origin, callback)

    async def sleep_until(self, when: float) -> None:
        await self._real.sleep_until(when + self._origin)

    def __repr__(self) -> str:
        return f"ExchangeClock(now={self.now():.3f})"
