"""A key pool in front of the in-process simulated venue: the live nonce rule, in virtual time.

:class:`PooledSimVenue` sends each private request through a
:class:`~engine.core.keys.KeyPool` -- the key the engine chose
(:data:`engine.core.apikeys.SEND_KEY`) or else one with room, its nonce, its wire slot held
until the reply -- into a :class:`~engine.venues.simulated.SimulatedVenue`, whose connections jitter
independently and whose exchange checks nonces per key.  Public requests go straight
through.  It is what the live REST venue does (:mod:`engine.venues.kraken_rest.rest`),
without HTTP, so properties and the bench can replay many requests over reordering
connections in seconds and deterministically for a seed.

:func:`pooled_sim_venue` builds it for ``keys`` key names, a nonce window (nonce units:
milliseconds of the clock's wall time) and a per-key limit with a window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine import kraken_errors as ke
from engine.core.apikeys import SEND_KEY
from engine.core.keys import KeyPool, LocalWire, PoolKey
from engine.venues.base import Reply
from engine.venues.kraken_rest.nonce import WallClockNonces
from engine.venues.simulated import SimulatedVenue

__all__ = ["PooledSimVenue", "pooled_sim_venue"]

#: Refusals of a key itself: it leaves the pool, as in the live venue.
_KEY_REFUSED = frozenset({ke.INVALID_KEY, ke.INVALID_SIGNATURE, ke.PERMISSION_DENIED})


class PooledSimVenue:
    """A :class:`~engine.venues.base.Venue`: private requests through ``pool`` into
    ``inner`` (the pool's key labels are the exchange's key names)."""

    __slots__ = ("inner", "pool")

    def __init__(self, inner: SimulatedVenue, pool: KeyPool) -> None:
        self.inner = inner
        self.pool = pool

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        if self.inner.exchange.is_public(endpoint):
            return await self.inner.request(endpoint, params)
        while True:
            key, nonce = await self.pool.acquire(SEND_KEY.get())
            try:
                reply = await self.inner.request(endpoint, params, key=key.label, nonce=nonce)
            finally:
                await self.pool.release(key, nonce)
            errors = reply.get("error") or ()
            if ke.INVALID_NONCE in errors:
                self.pool.nonce_refused(key)
                return reply
            self.pool.accepted(key)
            refused = next((e for e in errors if e in _KEY_REFUSED), None)
            if refused is None or len(self.pool.live) <= 1:
                return reply
            self.pool.remove(key, refused)  # executed nothing: again on another key

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __repr__(self) -> str:
        return f"PooledSimVenue({self.inner!r}, {self.pool!r})"


def pooled_sim_venue(inner: SimulatedVenue, keys: Sequence[str], *, window: int = 0,
                     limit: int = 8) -> PooledSimVenue:
    """``inner`` behind a pool of ``keys`` with wall-clock millisecond nonces (the clock's
    wall time: virtual in a backtest)."""
    nonces = WallClockNonces(inner.clock.wall)
    pool = KeyPool([PoolKey(k, i, LocalWire(k, nonces, window=window, limit=limit))
                    for i, k in enumerate(keys)])
    return PooledSimVenue(inner, pool)
