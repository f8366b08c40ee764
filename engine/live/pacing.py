"""Pacing requests the engine does not send itself on the engine's own API-counter model.

:class:`~engine.live.recovery.RecoveringVenue` looks orders up (OpenOrders and ClosedOrders:
2 API-counter units each, QueryOrders 1) behind the engine's back.  Unpaced, those calls
would push Kraken's counter above what the engine believes, and the engine's next query
could meet ``EAPI:Rate limit exceeded``.  An :class:`ApiPacer` is the recovery's ``pace``
hook: before each lookup it charges the lookup's cost on the *same* counter state the
engine charges its queries on (the engine's :class:`~limiters.store.CounterStore`, under
the engine's key for the API counter), waiting first until the cost fits.  Both then see
one budget.

The store key mirrors the engine's naming (``"api:" + key_id``, see ``Engine.__init__``);
:func:`api_pacer_for` builds the pacer from the engine's public ``profile`` and ``clock``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from limiters import CounterSpec, CounterState
from limiters.store import CounterStore

if TYPE_CHECKING:
    from engine.clock import Clock
    from engine.engine import Engine

__all__ = ["ApiPacer", "api_pacer_for"]


class ApiPacer:
    """``await pacer(endpoint, cost)``: wait until ``cost`` units fit, then charge them.

    ``spec`` is the API counter's spec (with the engine's margins); ``key`` the store key;
    ``clock`` the engine's clock (seconds).  ``charged`` counts the units charged here.
    """

    __slots__ = ("_clock", "_key", "_spec", "_store", "calls", "charged")

    def __init__(self, store: CounterStore, spec: CounterSpec, *, key: str, clock: Clock) -> None:
        self._store = store
        self._spec = spec
        self._key = key
        self._clock = clock
        self.charged = 0.0
        self.calls = 0

    async def __call__(self, endpoint: str, cost: float) -> None:
        """Wait until ``cost`` (units) fits on the API counter, then charge it."""
        if cost <= 0:
            return
        while True:
            now = self._clock.now()
            wait = self._store.update(self._key, now, self._step(cost, now))
            if wait == 0.0:
                self.charged += cost
                self.calls += 1
                return
            await asyncio.sleep(wait)

    def _step(
        self, cost: float, now: float
    ) -> Callable[[CounterState], tuple[CounterState, float]]:
        spec = self._spec

        def step(s: CounterState) -> tuple[CounterState, float]:
            r = spec.try_charge(s, cost, now)
            return r.state, (0.0 if r.charged else max(r.wait, 1e-3))

        return step

    def __repr__(self) -> str:
        return f"ApiPacer(key={self._key!r}, charged={self.charged:g})"


def api_pacer_for(engine: Engine, store: CounterStore, key_id: str = "default") -> ApiPacer:
    """A pacer on ``engine``'s API counter; ``store`` and ``key_id`` as given to the engine."""
    return ApiPacer(store, engine.profile.api, key=f"api:{key_id}", clock=engine.clock)
