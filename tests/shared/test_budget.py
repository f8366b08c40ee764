"""RedisBudget, shared nonces and wire leases against a real redis-server, two "processes"
(two links, two budgets) at a time."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
import redis

from engine.core.budget import Charge
from engine.core.settings import EngineSettings
from engine.shared.budget import RedisBudget
from engine.shared.link import Link, StoreUnavailable, connect_client
from engine.shared.nonces import RedisNonces
from engine.shared.server import LocalRedis
from engine.shared.wire import RedisWire
from limiters import CostExceedsCapacity, KrakenProfile, LimiterSettings

PROFILE = KrakenProfile.for_tier("intermediate", LimiterSettings.exact())  # max 125, 80 open


def _budget(url: str, lease: float = 5.0) -> RedisBudget:
    return RedisBudget(PROFILE, EngineSettings(), Link(connect_client(url), "test"), "acct",
                       lease=lease)


@pytest.fixture
async def two(redis_url: str) -> AsyncIterator[tuple[RedisBudget, RedisBudget]]:
    a, b = _budget(redis_url), _budget(redis_url)
    yield a, b
    await a.link.aclose()
    await b.link.aclose()


async def test_two_budgets_share_one_trading_counter(
    two: tuple[RedisBudget, RedisBudget], redis_url: str,
) -> None:
    a, b = two
    for _ in range(12):
        assert (await a.charge_trading("XBT/USD", 10.0, 0.0, 0.0)).charged
    got = await b.charge_trading("XBT/USD", 10.0, 0.0, 0.0)  # 120 + 10 > 125
    assert not got.charged
    assert got.level > 115.0 and 0 < got.wait <= 5.0 / 2.34 + 0.1  # it decays meanwhile
    assert (await b.charge_trading("XBT/USD", 5.0, 0.0, 0.0)).charged
    assert a.stats["XBT/USD"].charged == 120.0 and b.stats["XBT/USD"].charged == 5.0
    client = redis.Redis.from_url(redis_url)
    assert client.exists("orderpace:{acct}:trade:XBT/USD")
    client.close()


async def test_held_units_and_costs_that_cannot_fit(two: tuple[RedisBudget, RedisBudget]) -> None:
    a, _ = two
    assert (await a.charge_trading("ETH/USD", 100.0, 0.0, 0.0)).charged
    assert not (await a.charge_trading("ETH/USD", 10.0, 0.0, 20.0)).charged  # 110 > 125 - 20
    with pytest.raises(CostExceedsCapacity):
        a.charge_trading("ETH/USD", 200.0, 0.0, 0.0)


async def test_open_order_slots_are_shared_and_leases_expire(redis_url: str) -> None:
    a, b = _budget(redis_url, lease=0.3), _budget(redis_url)
    try:
        got = await a.charge_add("XBT/USD", 1.0, 0.0, 0.0, 79, 1)  # a holds 79: one more
        assert got.charged
        refused = await b.charge_add("XBT/USD", 1.0, 0.0, 0.0, 0, 1)  # 80 taken
        assert not refused.charged and refused.wait == pytest.approx(RedisBudget.SLOT_POLL)
        await asyncio.sleep(0.4)  # a stops renewing: its lease runs out
        assert (await b.charge_add("XBT/USD", 1.0, 0.0, 0.0, 0, 1)).charged
        assert await b.account_open("XBT/USD") == 1
        await b.release()
        assert await b.account_open("XBT/USD") == 0
    finally:
        await a.link.aclose()
        await b.link.aclose()


async def test_a_lost_store_refuses_then_restores(own_redis: LocalRedis) -> None:
    budget = _budget(own_redis.url)
    try:
        assert (await budget.charge_trading("XBT/USD", 100.0, 0.0, 0.0)).charged
        own_redis.kill()
        with pytest.raises(StoreUnavailable):
            await budget.charge_trading("XBT/USD", 1.0, 0.1, 0.0)
        await budget.force_trading("XBT/USD", 8.0, 0.2)  # kept, sent once Redis is back
        own_redis.start()  # empty: no persistence, no epoch
        held = await budget.charge_trading("XBT/USD", 1.0, 0.3, 0.0)
        # the whole account holds off while every process puts back what it knows
        assert not held.charged
        assert held.wait == pytest.approx(RedisBudget.RESTORE_GRACE, abs=0.3)
        assert held.level > 95.0  # the level it had seen (100, decayed a little), and more
        await asyncio.sleep(held.wait + 0.05)
        got = await budget.charge_trading("XBT/USD", 1.0, 0.3 + held.wait, 0.0)
        assert isinstance(got, Charge) and got.charged
        assert got.level > 95.0
    finally:
        await budget.link.aclose()


async def test_nonces_from_two_sources_never_repeat(redis_url: str) -> None:
    links = [Link(connect_client(redis_url), "t") for _ in range(2)]
    sources = [RedisNonces(link, "acct", lambda k: k) for link in links]
    try:
        taken = await asyncio.gather(*[s.next_nonce("k") for s in sources for _ in range(50)])
        assert len(set(taken)) == 100
        assert await sources[0].next_nonce("k") > max(taken)
    finally:
        for link in links:
            await link.aclose()


async def test_one_request_of_a_key_on_the_wire_across_processes(redis_url: str) -> None:
    links = [Link(connect_client(redis_url), "t") for _ in range(2)]
    wires = [RedisWire(link, "acct", "k", lease=2.0) for link in links]
    try:
        first = await wires[0].open()
        second = asyncio.ensure_future(wires[1].open())
        await asyncio.sleep(0.05)
        assert not second.done()  # the lease is taken
        done = wires[0].close(first)
        assert done is not None
        await done
        assert await asyncio.wait_for(second, 2.0) > first
        assert wires[1].waits > 0
        closing = wires[1].close(second.result())
        assert closing is not None
        await closing
    finally:
        for link in links:
            await link.aclose()


async def test_decisions_are_applied_in_the_order_issued(redis_url: str) -> None:
    """Forty charges issued in one go (pipelined, some awaited at once, some later): the
    levels they answer rise in issue order, one unit at a time."""
    budget = _budget(redis_url)
    try:
        answers = [budget.charge_trading("XBT/USD", 1.0, 0.0, 0.0) for _ in range(40)]
        first = await answers[0]  # this task sends what is queued
        rest = await asyncio.gather(*answers[1:])
        levels = [first.level] + [c.level for c in rest]
        assert all(c.charged for c in rest)
        steps = [b - a for a, b in itertools.pairwise(levels)]
        assert all(0.9 < s <= 1.0 for s in steps), steps  # +1 each, minus a little decay
    finally:
        await budget.link.aclose()
