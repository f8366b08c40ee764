"""Pacing requests the engine does not send itself on the engine's own API-counter model.

:class:`~kraken_rest.recovery.RecoveringVenue` looks orders up (OpenOrders and ClosedOrders:
2 API-counter units each, QueryOrders 1) behind the engine's back.  Unpaced, those calls
would push Kraken's counter above what the engine believes, and the engine's next query
could meet ``EAPI:Rate limit exceeded``.  An :class:`ApiPacer` is the recovery's ``pace``
hook: before each lookup it charges the lookup's cost on the engine's own API counter
(:attr:`Engine.api_counter`), waiting first until the cost fits.  Both then see one budget.

Over a key pool (``Engine.keys``) the counter is that of the key the lookup goes out on:
the key of the round trip it happens in (:data:`engine.core.apikeys.SEND_KEY`), else the
engine's ``key_id`` -- which the pacer then names as the lookup's key, so the venue sends
it where it was charged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.core.apikeys import SEND_KEY
from limiters import Counter

if TYPE_CHECKING:
    from engine.clock import Clock
    from engine.core.engine import Engine

__all__ = ["ApiPacer", "api_pacer_for"]


class ApiPacer:
    """``await pacer(endpoint, cost)``: wait until ``cost`` units fit, then charge them.

    ``counter`` is the API counter (with the engine's margins); ``clock`` the engine's clock
    (seconds).  ``charged`` counts the units charged here, ``calls`` the lookups.
    ``counters(key)``: a key pool's per-key counters (see the module docstring), with
    ``counter`` the one of ``key`` (the default key).
    """

    __slots__ = ("_clock", "_counter", "_counters", "_key", "calls", "charged")

    def __init__(self, counter: Counter, *, clock: Clock,
                 counters: Callable[[str], Counter] | None = None, key: str = "") -> None:
        self._counter = counter
        self._counters = counters
        self._key = key
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
        counter = self._counter
        if self._counters is not None:
            key = SEND_KEY.get()
            if key is None:
                SEND_KEY.set(key := self._key)  # this task's next request goes on it
            counter = self._counters(key)
        while True:
            result = counter.try_charge(cost, self._clock.now())
            if result.charged:
                self.charged += cost
                self.calls += 1
                return
            await asyncio.sleep(max(result.wait, 1e-3))

    def __repr__(self) -> str:
        return f"ApiPacer(key={self._counter.key!r}, charged={self.charged:g})"


def api_pacer_for(engine: Engine) -> ApiPacer:
    """A pacer on ``engine``'s API counter (over a key pool: per key)."""
    counters = None
    if engine.keys is not None:
        counters = engine.budget.api_counter  # type: ignore[attr-defined]  # MemoryBudget
    return ApiPacer(engine.api_counter, clock=engine.clock, counters=counters,
                    key=engine.keys.ids[0] if engine.keys is not None else "")
