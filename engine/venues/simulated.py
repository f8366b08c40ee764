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

A request is one future and one ``clock.call_at`` timer per leg (a zero delay: the next
loop turn), no task and no ``asyncio.sleep``: :meth:`SimulatedVenue.send` starts it and
returns the future; :meth:`SimulatedVenue.request` awaits it.  The exchange's own time is
kept moving by :class:`engine.exchange.MarketDriver`.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from engine.clock import Clock
from engine.exchange.errors import check_int, check_number
from engine.exchange.exchange import MAX_SETTING_SECONDS, SimulatedKraken
from engine.venues.base import Reply, TransportError

__all__ = ["DEFAULT_MAX_CONNECTIONS", "SimulatedVenue"]

#: Connections the modelled pool may open (httpx's default ``max_connections``).
DEFAULT_MAX_CONNECTIONS = 100


class _Connection:
    """One modelled HTTP connection: its index, its own jitter stream, whether it is busy."""

    __slots__ = ("busy", "index", "rng")

    def __init__(self, index: int, seed: int) -> None:
        self.index = index
        self.rng = random.Random(f"connection:{seed}:{index}")
        self.busy = False


class _Trip:
    """One request on its way: what it carries, its connection, its armed timer, whether
    the exchange has handled it, and the future its sender waits on."""

    __slots__ = ("conn", "endpoint", "future", "handled", "key", "on_reply", "params", "reply",
                 "timer", "venue")

    def __init__(self, venue: SimulatedVenue, endpoint: str, params: Mapping[str, Any],
                 key: str | None, future: asyncio.Future[Reply],
                 on_reply: Callable[[Reply], object] | None) -> None:
        self.venue = venue
        self.on_reply = on_reply
        self.endpoint = endpoint
        self.params = params
        self.key = key
        self.future = future
        self.conn: _Connection | None = None
        self.timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self.handled = False
        self.reply: Reply = {}

    def arrive(self) -> None:
        self.venue._arrive(self)

    def back(self) -> None:
        self.venue._back(self)


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
        self._waiting: deque[_Trip] = deque()  # requests waiting for a connection, in order
        self._pending: set[_Trip] = set()  # requests not yet back (waiting ones too)

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

    def _acquire(self) -> _Connection | None:
        """The lowest idle connection (busy now), a new one if the pool may grow, else None."""
        for conn in self._conns:
            if not conn.busy:
                conn.busy = True
                return conn
        if len(self._conns) < self._max_connections:
            conn = _Connection(len(self._conns), self._seed)
            self._conns.append(conn)
            conn.busy = True
            return conn
        return None

    def _release(self, conn: _Connection) -> None:
        """Hand ``conn`` to the first request waiting for one (it leaves now), else idle it."""
        if self._waiting:
            self._go(self._waiting.popleft(), conn)
        else:
            conn.busy = False

    def _delay(self, conn: _Connection) -> float:
        if self._jitter:
            return self._latency + conn.rng.random() * self._jitter
        return self._latency

    def _nonce(self) -> str:
        n = max(self._last_nonce + 1, int(self._clock.wall() * 1000))
        self._last_nonce = n
        return str(n)

    # -- one round trip, as timer callbacks --------------------------------------------------

    def _go(self, trip: _Trip, conn: _Connection) -> None:
        """``trip`` leaves on ``conn``: it arrives after the out leg's delay."""
        trip.conn = conn
        delay = self._delay(conn)
        if delay > 0.0:
            trip.timer = self._clock.call_at(self._clock.now() + delay, trip.arrive)
        else:  # never inside the sender's own call: a reply must not re-enter it
            trip.timer = asyncio.get_running_loop().call_soon(trip.arrive)

    def _arrive(self, trip: _Trip) -> None:
        """The exchange handles ``trip`` at the clock's time; the reply starts back."""
        trip.timer = None
        conn = trip.conn
        assert conn is not None
        if trip.future.done():  # given up on (cancelled at shutdown)
            self._finish(trip)
            return
        public = trip.key is None
        trip.reply = self._exchange.handle(
            trip.endpoint, trip.params, key=trip.key, now=self._clock.now(),
            client=self._client if public else None)
        trip.handled = True
        delay = self._delay(conn)
        if delay > 0.0:
            trip.timer = self._clock.call_at(self._clock.now() + delay, trip.back)
        else:
            self._back(trip)

    def _back(self, trip: _Trip) -> None:
        """The reply is back: the connection is free, the future gets the reply."""
        trip.timer = None
        self._finish(trip)
        if not trip.future.done():
            if trip.on_reply is not None:
                trip.on_reply(trip.reply)
            trip.future.set_result(trip.reply)

    def _finish(self, trip: _Trip) -> None:
        self._pending.discard(trip)
        if trip.conn is not None:
            conn, trip.conn = trip.conn, None
            self._release(conn)

    # -- the Venue interface ---------------------------------------------------------------

    def send(
        self, endpoint: str, params: Mapping[str, Any],
        on_reply: Callable[[Reply], object] | None = None, *, key: str | None = None,
        nonce: int | None = None,
    ) -> asyncio.Future[Reply]:
        """Start ``endpoint`` with ``params`` now; a future for Kraken's reply.

        The same round trip as :meth:`request` (which awaits it), carried by two clock
        timers and no task.  ``on_reply(reply)`` is called the moment the reply is back,
        then the future gets it; the future fails with :class:`TransportError` (and
        ``on_reply`` is not called) when the venue is closed before the reply is back.
        """
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        if self._closed:
            fut.set_exception(TransportError("venue is closed", endpoint=endpoint, sent=False))
            return fut
        params, use_key = self._prepare(endpoint, params, key, nonce)
        trip = _Trip(self, endpoint, params, use_key, fut, on_reply)
        self._pending.add(trip)
        conn = self._acquire()
        if conn is None:
            self._waiting.append(trip)  # first come, first served
        else:
            self._go(trip, conn)
        return fut

    def _prepare(self, endpoint: str, params: Mapping[str, Any], key: str | None,
                 nonce: int | None) -> tuple[Mapping[str, Any], str | None]:
        """The parameters as sent (a nonce added) and the key (None: a public endpoint)."""
        public = self._exchange.is_public(endpoint)
        use_key = None if public else (key if key is not None else self._key)
        if use_key is not None:
            if nonce is not None:
                params = {**params, "nonce": str(nonce)}
            elif self._nonces:
                params = {**params, "nonce": self._nonce()}
        return params, use_key

    async def request(
        self, endpoint: str, params: Mapping[str, Any], *, key: str | None = None,
        nonce: int | None = None,
    ) -> Reply:
        """Send ``endpoint`` with ``params`` through the simulated network; Kraken's reply.

        ``key`` names the API key (default: the venue's); ``nonce`` is used as given, else
        one is taken at send time when the venue was built with ``nonces=True``.  Without
        any network delay, a request that finds an idle connection is handled at once, in
        the caller's turn; otherwise it awaits :meth:`send`.
        """
        if not (self._latency or self._jitter or self._closed or self._waiting):
            conn = self._acquire()
            if conn is not None:
                try:
                    params, use_key = self._prepare(endpoint, params, key, nonce)
                    return self._exchange.handle(
                        endpoint, params, key=use_key, now=self._clock.now(),
                        client=self._client if use_key is None else None)
                finally:
                    self._release(conn)
        return await self.send(endpoint, params, key=key, nonce=nonce)

    async def aclose(self) -> None:
        """Refuse new requests; those in flight end with :class:`TransportError`."""
        self._closed = True
        self._waiting.clear()
        for trip in list(self._pending):
            if trip.timer is not None:
                trip.timer.cancel()
                trip.timer = None
            self._finish(trip)
            if not trip.future.done():
                trip.future.set_exception(TransportError(
                    "venue closed", endpoint=trip.endpoint, sent=trip.handled))

    def __repr__(self) -> str:
        return (
            f"SimulatedVenue(key={self._key!r}, latency={self._latency:g}, "
            f"jitter={self._jitter:g}, connections={len(self._conns)})"
        )
