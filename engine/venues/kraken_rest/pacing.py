"""Pacing requests the engine does not send itself on the engine's own API-counter model.

:class:`~kraken_rest.recovery.RecoveringVenue` looks orders up (OpenOrders and ClosedOrders:
2 API-counter units each, QueryOrders 1) behind the engine's back.  Unpaced, those calls
would push Kraken's counter above what the engine believes, and the engine's next query
could meet ``EAPI:Rate limit exceeded``.  An :class:`ApiPacer` is the recovery's ``pace``
hook: before each lookup it charges the lookup's cost on the engine's own API counter
(:attr:`Engine.api_counter`), waiting first until the cost fits.  Both then see one budget.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from limiters import Counter

if TYPE_CHECKING:
    from engine.clock import Clock
    from engine.core.engine import Engine

__all__ = ["ApiPacer", "api_pacer_for"]


class ApiPacer:
    """``await pacer(endpoint, cost)``: wait until ``cost`` units fit, then charge them.

    ``counter`` is the API counter (with the engine's margins); ``clock`` the engine's clock
    (seconds).  ``charged`` counts the units charged here, ``calls`` the lookups.
    """

    __slots__ = ("_clock", "_counter", "calls", "charged")

    def __init__(self, counter: Counter, *, clock: Clock) -> None:
        self._counter = counter
        self._clock = clock
        self.charged = 0.0
        self.calls = 0

    async def __call__(self, endpoint: str, cost: float) -> None:
        """Wait until ``cost`` (units) fits on the API counter, then charge it.

        Lookups are rare (one or two after a transport error), so this waits with a plain
        sleep until the computed moment rather than through the engine's timer.
        """
        if cost <= 0:
            return
        while True:
            result = self._counter.try_charge(cost, self._clock.now())
            if result.charged:
                self.charged += cost
                self.calls += 1
                return
            await asyncio.sleep(max(result.wait, 1e-3))

    def __repr__(self) -> str:
        return f"ApiPacer(key={self._counter.key!r}, charged={self.charged:g})"


def api_pacer_for(engine: Engine) -> ApiPacer:
    """A pacer on ``engine``'s API counter."""
    return ApiPacer(engine.api_counter, clock=engine.clock)
