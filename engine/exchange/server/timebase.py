"""The simulated exchange's time on a real clock.

:class:`SimulatedKraken` takes ``now`` in clock seconds and reads UNIX time as
``epoch + now``.  Served over HTTP, its clock is the running event loop's monotonic time,
shifted so that the exchange starts at ``now() == 0`` (its price paths start at 0), with
``epoch`` the UNIX time at that moment: deadlines and timestamps in replies then agree
with the clients' wall clocks.  It serves as the :class:`~engine.exchange.driver.Timebase`
of the market driver (structurally: ``now`` and ``call_at``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["ExchangeClock"]


class ExchangeClock:
    """The running loop's time minus its value at start (seconds); ``epoch`` is the UNIX
    time at ``now() == 0``.  Create it inside the running loop."""

    __slots__ = ("_loop", "_origin", "epoch")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._origin = self._loop.time()
        self.epoch = time.time()

    def now(self) -> float:
        """Seconds since the exchange started (monotonic)."""
        return self._loop.time() - self._origin

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return self._loop.call_at(when + self._origin, callback)

    def __repr__(self) -> str:
        return f"ExchangeClock(now={self.now():.3f})"
