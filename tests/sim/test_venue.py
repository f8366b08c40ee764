"""SimulatedVenue on a VirtualClock: latency, jitter reordering, nonces, closing; MarketDriver."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from engine import kraken_errors as ke
from engine.clock import VirtualClock
from engine.exchange import MarketDriver, OrderFilled, drive_market
from engine.venues.base import TransportError, Venue
from engine.venues.simulated import SimulatedVenue

from .simkit import flat, make

ORDER = {"pair": "XBT/USD", "type": "buy", "ordertype": "limit", "volume": "0.01",
         "price": "50000.0"}


def test_is_a_venue() -> None:
    clock = VirtualClock()
    assert isinstance(SimulatedVenue(make(), clock), Venue)


def test_latency_each_way_on_the_virtual_clock() -> None:
    clock = VirtualClock()
    x = make()
    venue = SimulatedVenue(x, clock, latency=0.1)

    async def main() -> tuple[dict[str, Any], float]:
        reply = await venue.request("AddOrder", ORDER)
        return reply, clock.now()

    reply, done = VirtualClock.run(clock, main())
    t = reply["result"]["txid"][0]
    assert x.open_orders()[t]["opentm"] == pytest.approx(x.epoch + 0.1)  # arrival
    assert done == pytest.approx(0.2)  # and back


def test_zero_latency_does_not_wait() -> None:
    clock = VirtualClock()
    venue = SimulatedVenue(make(), clock)

    async def main() -> float:
        for _ in range(10):
            assert (await venue.request("Time", {}))["error"] == []
        return clock.now()

    assert clock.run(main()) == 0.0


def _arrivals(jitter: float, seed: int) -> tuple[list[int], list[float], list[float]]:
    """Send 40 orders 1 ms apart; return the userrefs in arrival order, sends and arrivals."""
    clock = VirtualClock()
    x = make("pro")
    venue = SimulatedVenue(x, clock, latency=0.05, jitter=jitter, seed=seed)
    sends: list[float] = []

    async def one(i: int) -> None:
        await clock.sleep_until(i * 0.001)
        sends.append(clock.now())
        reply = await venue.request("AddOrder", {**ORDER, "userref": str(i)})
        assert reply["error"] == []

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(40)))

    clock.run(main())
    infos = sorted(x.open_orders().values(), key=lambda o: o["opentm"])
    return ([o["userref"] for o in infos], sends,
            [o["opentm"] - x.epoch for o in sorted(x.open_orders().values(),
                                                   key=lambda o: o["userref"])])


def test_jitter_reorders_arrivals_within_bounds_and_is_seeded() -> None:
    order, sends, arrivals = _arrivals(jitter=0.02, seed=1)
    assert order != sorted(order)  # some requests overtook others
    for sent, arrived in zip(sends, arrivals, strict=True):
        assert sent + 0.05 <= arrived + 1e-12 <= sent + 0.07 + 1e-9
    assert _arrivals(jitter=0.02, seed=1)[0] == order
    assert _arrivals(jitter=0.02, seed=2)[0] != order
    assert _arrivals(jitter=0.0, seed=1)[0] == sorted(order)


def test_reordered_nonces_meet_invalid_nonce_unless_the_window_allows() -> None:
    def errors(window: int) -> int:
        clock = VirtualClock()
        x = make("pro", nonce_window=window)
        venue = SimulatedVenue(x, clock, latency=0.01, jitter=0.05, seed=3, nonces=True)

        async def one(i: int) -> None:
            await clock.sleep_until(i * 0.002)
            await venue.request("Balance", {})

        async def main() -> None:
            await asyncio.gather(*(one(i) for i in range(10)))

        clock.run(main())
        return x.stats.errors[ke.INVALID_NONCE]

    assert errors(0) > 0
    assert errors(1000) == 0


def test_closing_fails_requests_in_flight_and_refuses_new_ones() -> None:
    clock = VirtualClock()
    x = make()
    venue = SimulatedVenue(x, clock, latency=1.0)

    async def main() -> list[object]:
        outbound = asyncio.ensure_future(venue.request("AddOrder", ORDER))
        await asyncio.sleep(0.5)
        await venue.aclose()
        results = list(await asyncio.gather(outbound, return_exceptions=True))
        try:
            await venue.request("Time", {})
        except TransportError as e:
            results.append(e)
        return results

    out_err, new_err = clock.run(main())
    assert isinstance(out_err, TransportError) and out_err.sent is False
    assert isinstance(new_err, TransportError) and new_err.sent is False
    assert x.stats.requests == {}  # nothing reached the exchange


def test_market_driver_fills_in_virtual_time() -> None:
    clock = VirtualClock()
    x = make(prices={**flat(), "XBT/USD": [(0.0, 60000.0), (10.0, 49000.0)]})
    venue = SimulatedVenue(x, clock, latency=0.01)
    seen: list[tuple[float, object]] = []
    x.subscribe(lambda e: seen.append((clock.now(), e)))

    async def main() -> MarketDriver:
        await venue.request("AddOrder", ORDER)
        driver = drive_market(x, clock)
        await asyncio.sleep(30.0)
        driver.stop()
        return driver

    driver = clock.run(main())
    assert not driver.running
    fills = [(now, e) for now, e in seen if isinstance(e, OrderFilled)]
    assert len(fills) == 1
    now, fill = fills[0]
    assert now == pytest.approx(10.0) and fill.time == 10.0  # delivered when it happened


def test_market_driver_delivers_the_dead_man_switch_on_time() -> None:
    clock = VirtualClock()
    x = make(prices={**flat(), "XBT/USD": [(0.0, 60000.0)]})  # no ticks after 0
    venue = SimulatedVenue(x, clock)
    cancelled_at: list[float] = []
    x.subscribe(lambda e: cancelled_at.append(clock.now()) if hasattr(e, "reason") else None)

    async def main() -> None:
        await venue.request("AddOrder", ORDER)
        await venue.request("CancelAllOrdersAfter", {"timeout": "5"})
        driver = MarketDriver(x, clock, max_interval=0.25).start()
        await asyncio.sleep(10.0)
        driver.stop()

    clock.run(main())
    assert cancelled_at and 5.0 <= cancelled_at[0] <= 5.25


def test_throughput_smoke() -> None:
    """Zero-latency requests through the venue are cheap (a loose bound, not a benchmark)."""
    clock = VirtualClock()
    x = make("pro")
    venue = SimulatedVenue(x, clock)
    n = 5000

    async def main() -> None:
        for i in range(n):
            reply = await venue.request("AddOrder", {**ORDER, "ordertype": "market",
                                                     "volume": "0.0001"})
            if reply["error"]:
                await clock.sleep_until(clock.now() + 1.0)
            del i

    start = time.perf_counter()
    clock.run(main())
    assert time.perf_counter() - start < 5.0
