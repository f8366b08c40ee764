"""The simulated exchange behind the :class:`~engine.venues.base.Venue` interface, on a clock.

:class:`SimulatedVenue` delivers each request to a :class:`SimulatedKraken` after a
one-way network delay of ``latency + U(0, jitter)`` seconds (seeded), lets the exchange
handle it at the clock's time of arrival, and delivers the reply after another such delay.
Two requests sent ``d`` seconds apart therefore arrive anywhere from ``d - jitter`` to
``d + jitter`` apart, and may swap order: exactly what the engine must allow for.

Waiting costs one loop future and one ``clock.call_at`` timer per leg (no task, no
``asyncio.sleep``), and nothing at all when the delay is 0, so the simulator keeps up with
the engine's throughput target.

The exchange's own time is kept moving by :class:`engine.exchange.MarketDriver`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

from engine.clock import Clock
from engine.exchange.errors import check_number
from engine.exchange.exchange import SimulatedKraken
from engine.venues.base import Reply, TransportError

__all__ = ["SimulatedVenue"]


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class SimulatedVenue:
    """A :class:`~engine.venues.base.Venue` over an in-process :class:`SimulatedKraken`.

    ``latency`` and ``jitter`` are seconds, per direction.  With ``nonces=True`` every
    private request gets a strictly increasing ``nonce`` at *send* time, as a real client
    does, so requests reordered in flight can meet ``EAPI:Invalid nonce``.  A NaN, infinite
    or negative ``latency`` or ``jitter`` raises :class:`~engine.exchange.errors.InvalidSimSetting`.
    """

    __slots__ = (
        "_clock", "_closed", "_exchange", "_jitter", "_key", "_last_nonce", "_latency",
        "_nonces", "_pending", "_rng",
    )

    def __init__(
        self, exchange: SimulatedKraken, clock: Clock, *, key: str = "sim",
        latency: float = 0.0, jitter: float = 0.0, seed: int = 0, nonces: bool = False,
    ) -> None:
        latency = check_number("SimulatedVenue", "latency", latency, unit="seconds")
        jitter = check_number("SimulatedVenue", "jitter", jitter, unit="seconds")
        self._exchange = exchange
        self._clock = clock
        self._key = key
        self._latency = latency
        self._jitter = jitter
        self._rng = random.Random(seed)
        self._nonces = nonces
        self._last_nonce = 0
        self._closed = False
        self._pending: dict[asyncio.Future[None], bool] = {}  # future -> request already handled

    @property
    def exchange(self) -> SimulatedKraken:
        return self._exchange

    def _delay(self) -> float:
        if self._jitter:
            return self._latency + self._rng.random() * self._jitter
        return self._latency

    async def _wait(self, delay: float, handled: bool) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self._clock.call_at(self._clock.now() + delay, lambda: _wake(fut))
        self._pending[fut] = handled
        try:
            await fut
        finally:
            del self._pending[fut]
            timer.cancel()

    def _nonce(self) -> str:
        n = max(self._last_nonce + 1, int(self._clock.wall() * 1000))
        self._last_nonce = n
        return str(n)

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        """Send ``endpoint`` with ``params`` through the simulated network; Kraken's reply."""
        if self._closed:
            raise TransportError("venue is closed", endpoint=endpoint, sent=False)
        exchange = self._exchange
        key = None if exchange.is_public(endpoint) else self._key
        if self._nonces and key is not None:
            params = {**params, "nonce": self._nonce()}
        delay = self._delay()
        if delay > 0.0:
            try:
                await self._wait(delay, False)
            except TransportError as e:
                raise TransportError("venue closed", endpoint=endpoint, sent=False) from e
        reply = exchange.handle(endpoint, params, key=key, now=self._clock.now())
        delay = self._delay()
        if delay > 0.0:
            try:
                await self._wait(delay, True)
            except TransportError as e:
                raise TransportError("venue closed", endpoint=endpoint, sent=True) from e
        return reply

    async def aclose(self) -> None:
        """Refuse new requests; those in flight end with :class:`TransportError`."""
        self._closed = True
        for fut, handled in list(self._pending.items()):
            if not fut.done():
                fut.set_exception(TransportError("venue closed", endpoint="?", sent=handled))

    def __repr__(self) -> str:
        return (
            f"SimulatedVenue(key={self._key!r}, latency={self._latency:g}, "
            f"jitter={self._jitter:g})"
        )
