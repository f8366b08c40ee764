"""Prices for a live run: Kraken's public ``Ticker``, polled.

:class:`TickerFeed` asks ``Ticker`` for all the run's pairs in one request every
``interval`` seconds (public endpoints are limited per IP, about 1 request/s; the venue's
:class:`~engine.venues.kraken_rest.public.PublicThrottle` paces them) and calls
``on_price(pair, price, time)`` for each pair whose price changed, ``price`` being the mid
of best bid and best ask (quote units, exact :class:`~decimal.Decimal`) and ``time`` the
clock's seconds.  A failed poll is logged and retried at the next interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import structlog

from engine.aio import cancel_and_wait
from engine.clock import Clock
from engine.markets import Markets
from engine.numbers import positive_decimal
from engine.venues.base import TransportError, Venue

__all__ = ["TickerFeed", "mid_prices"]

_log = structlog.get_logger("orderpace.live.prices")


def _first(value: object) -> Decimal | None:
    if isinstance(value, list) and value:
        value = value[0]
    return positive_decimal(value)


def mid_prices(result: Mapping[str, Any], markets: Markets) -> dict[str, Decimal]:
    """Mid prices by pair (WebSocket name) from a Ticker ``result`` (REST name -> ticker)."""
    out: dict[str, Decimal] = {}
    for name, ticker in result.items():
        market = markets.find(name)
        if market is None or not isinstance(ticker, Mapping):
            continue
        ask, bid = _first(ticker.get("a")), _first(ticker.get("b"))
        if ask is not None and bid is not None:
            out[market.name] = (ask + bid) / 2
        else:
            last = _first(ticker.get("c"))
            if last is not None:
                out[market.name] = last
    return out


class TickerFeed:
    """Polls ``Ticker`` for ``markets`` through ``venue`` every ``interval`` seconds."""

    def __init__(
        self,
        venue: Venue,
        markets: Markets,
        clock: Clock,
        on_price: Callable[[str, Decimal, float], None],
        *,
        interval: float = 1.0,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.venue = venue
        self.markets = markets
        self.clock = clock
        self.on_price = on_price
        self.interval = float(interval)
        self.last: dict[str, Decimal] = {}
        self.polls = 0
        self._task: asyncio.Task[None] | None = None

    async def poll_once(self) -> dict[str, Decimal]:
        """One Ticker request; the prices that changed (already passed to ``on_price``)."""
        pairs = ",".join(m.altname for m in self.markets)
        reply = await self.venue.request("Ticker", {"pair": pairs})
        self.polls += 1
        result = reply.get("result")
        if reply.get("error") or not isinstance(result, Mapping):
            _log.warning("prices.ticker_error", error=reply.get("error"))
            return {}
        changed = {}
        now = self.clock.now()
        for pair, price in mid_prices(result, self.markets).items():
            if self.last.get(pair) != price:
                self.last[pair] = price
                changed[pair] = price
                self.on_price(pair, price, now)
        return changed

    def start(self) -> TickerFeed:
        """Poll in a task from now on (inside the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.poll_once()
            except TransportError as e:
                _log.warning("prices.ticker_failed", error=str(e))

    @property
    def complete(self) -> bool:
        """Whether every pair has a price."""
        return all(m.name in self.last for m in self.markets)
