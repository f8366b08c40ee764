"""The simulated exchange behind the :class:`~engine.venues.base.Venue` interface, on a clock.

:class:`SimulatedVenue` carries each request to a :class:`SimulatedKraken` over a modelled
HTTP connection pool, lets the exchange handle it at the clock's time of arrival, and
delivers the reply back the same way:

* a request takes the first idle connection of the pool (lowest index), or opens a new
  one while fewer than ``max_connections`` are open, or else waits, first come first
  served, for one to be released;
* a connection carries one request at a time (HTTP/1.1: the next request on it is sent
  only after the previous reply came back), so requests on one connection arrive in order;
* each leg (out and back) takes ``latency + U(0, jitter)`` seconds, ``U`` drawn from the
  *connection's own* random stream, seeded by ``(seed, connection index)``: requests on
  different connections are delayed independently, and two sent ``d`` seconds apart may
  arrive anywhere from ``d - jitter`` to ``d + jitter`` apart -- in the other order.

So concurrent private requests of one key, even when their nonces are taken in order at
send time (``nonces=True``, or a ``nonce`` passed in), can reach the exchange out of nonce
order and meet ``EAPI:Invalid nonce``, exactly as over the internet.  Everything is seeded:
a backtest is deterministic for its seed.

Waiting costs one loop future and one ``clock.call_at`` timer per leg (no task, no
``asyncio.sleep``), and nothing at all when the delay is 0.  The exchange's own time is
kept moving by :class:`engine.exchange.MarketDriver`.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Mapping
from typing import Any

from engine.clock import Clock
from engine.exchange.errors import check_int, check_number
from engine.exchange.exchange import MAX_SETTING_SECONDS, SimulatedKraken
from engine.venues.base import Reply, TransportError

__all__ = ["DEFAULT_MAX_CONNECTIONS", "SimulatedVenue"]

#: Connections the modelled pool may open (httpx's default ``max_connections``).
DEFAULT_MAX_CONNECTIONS = 100


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _Connection:
    """One modelled HTTP connection: its index, its own jitter stream, whether it is busy."""

    __slots__ = ("busy", "index", "rng")

    def __init__(self, index: int, seed: int) -> None:
        self.index = index
        self.rng = random.Random(f"connection:{seed}:{index}")
        self.busy = False


class SimulatedVenue:
    """A :class:`~engine.venues.base.Venue` over an in-process :class:`SimulatedKraken`.

    ``latency`` and ``jitter`` are seconds, per direction.  ``key`` is the API key used
    when a request names none.  With ``nonces=True`` every private request without a
    given ``nonce`` gets a strictly increasing one at *send* time, as a real client does.
    ``client`` is the address public requests come from (the exchange limits public calls
    per address; None: unlimited).  A NaN, infinite, negative or absurdly large
    ``latency`` or ``jitter`` raises :class:`~engine.exchange.errors.InvalidSimSetting`.
    """

    __slots__ = (
        "_client", "_clock", "_closed", "_conns", "_exchange", "_jitter", "_key",
        "_last_nonce", "_latency", "_max_connections", "_nonces", "_pending", "_seed",
        "_waiting",
    )

    def __init__(
        self, exchange: SimulatedKraken, clock: Clock, *, key: str = "sim",
        latency: float = 0.0, jitter: float = 0.0, seed: int = 0, nonces: bool = False,
        max_connections: int = DEFAULT_MAX_CONNECTIONS, client: str | None = "127.0.0.1",
    ) -> None:
        me = "SimulatedVenue"
        latency = check_number(me, "latency", latency, unit="seconds", maximum=MAX_SETTING_SECONDS)
        jitter = check_number(me, "jitter", jitter, unit="seconds", maximum=MAX_SETTING_SECONDS)
        check_int(me, "max_connections", max_connections, minimum=1)
        self._exchange = exchange
        self._clock = clock
        self._key = key
        self._latency = latency
        self._jitter = jitter
        self._seed = seed
        self._nonces = nonces
        self._client = client
        self._max_connections = max_connections
        self._last_nonce = 0
        self._closed = False
        self._conns: list[_Connection] = []
        self._waiting: deque[asyncio.Future[_Connection]] = deque()
        self._pending: dict[asyncio.Future[None], bool] = {}  # future -> request already handled

    @property
    def exchange(self) -> SimulatedKraken:
        return self._exchange

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def connections(self) -> int:
        """Connections the pool has opened so far."""
        return len(self._conns)

    # -- the pool ------------------------------------------------------------------------

    async def _acquire(self) -> _Connection:
        for conn in self._conns:
            if not conn.busy:
                conn.busy = True
                return conn
        if len(self._conns) < self._max_connections:
            conn = _Connection(len(self._conns), self._seed)
            self._conns.append(conn)
            conn.busy = True
            return conn
        fut: asyncio.Future[_Connection] = asyncio.get_running_loop().create_future()
        self._waiting.append(fut)
        return await fut

    def _release(self, conn: _Connection) -> None:
        while self._waiting:
            fut = self._waiting.popleft()
            if not fut.done():
                fut.set_result(conn)  # handed over, still busy
                return
        conn.busy = False

    def _delay(self, conn: _Connection) -> float:
        if self._jitter:
            return self._latency + conn.rng.random() * self._jitter
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

    # -- the Venue interface ---------------------------------------------------------------

    async def request(
        self, endpoint: str, params: Mapping[str, Any], *, key: str | None = None,
        nonce: int | None = None,
    ) -> Reply:
        """Send ``endpoint`` with ``params`` through the simulated network; Kraken's reply.

        ``key`` names the API key (default: the venue's); ``nonce`` is used as given, else
        one is taken at send time when the venue was built with ``nonces=True``.
        """
        if self._closed:
            raise TransportError("venue is closed", endpoint=endpoint, sent=False)
        exchange = self._exchange
        public = exchange.is_public(endpoint)
        use_key = None if public else (key if key is not None else self._key)
        if use_key is not None:
            if nonce is not None:
                params = {**params, "nonce": str(nonce)}
            elif self._nonces:
                params = {**params, "nonce": self._nonce()}
        conn = await self._acquire()
        try:
            delay = self._delay(conn)
            if delay > 0.0:
                try:
                    await self._wait(delay, False)
                except TransportError as e:
                    raise TransportError("venue closed", endpoint=endpoint, sent=False) from e
            reply = exchange.handle(endpoint, params, key=use_key, now=self._clock.now(),
                                    client=self._client if public else None)
            delay = self._delay(conn)
            if delay > 0.0:
                try:
                    await self._wait(delay, True)
                except TransportError as e:
                    raise TransportError("venue closed", endpoint=endpoint, sent=True) from e
        finally:
            self._release(conn)
        return reply

    async def aclose(self) -> None:
        """Refuse new requests; those in flight end with :class:`TransportError`."""
        self._closed = True
        for fut, handled in list(self._pending.items()):
            if not fut.done():
                fut.set_exception(TransportError("venue closed", endpoint="?", sent=handled))
        while self._waiting:
            fut_conn = self._waiting.popleft()
            if not fut_conn.done():
                fut_conn.set_exception(TransportError("venue closed", endpoint="?", sent=False))

    def __repr__(self) -> str:
        return (
            f"SimulatedVenue(key={self._key!r}, latency={self._latency:g}, "
            f"jitter={self._jitter:g}, connections={len(self._conns)})"
        )
