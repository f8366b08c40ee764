"""A key pool over the shared store (issues 11 and 14): the engine charges each query on the
API counter of the key it goes out on, ``orderpace:{account}:api:<digest of that key>``,
through the asynchronous budget; 3 keys give about 3x the queries of one."""

from __future__ import annotations

import asyncio

import redis

from engine import kraken_errors as ke
from engine.clock import RealClock
from engine.core.engine import Engine, EngineSettings
from engine.exchange import SimulatedKraken
from engine.intents import QueryBalance
from engine.markets import DEFAULT_MARKETS
from engine.outcomes import Status
from engine.shared.link import Link, connect_client
from engine.shared.live import SharedStore, key_digest
from engine.venues.pooled import pooled_sim_venue
from engine.venues.simulated import SimulatedVenue
from limiters import KrakenProfile, LimiterSettings

TIER = "intermediate"
LIMITS = LimiterSettings.matching(0.0, 0.0)


def test_the_shared_budget_names_each_keys_counter_by_its_digest() -> None:
    link = Link(connect_client("redis://127.0.0.1:1/0"))  # never connected here
    store = SharedStore(link, "desk", ["AKEY-one", "AKEY-two"])
    profile = KrakenProfile.for_tier(TIER, LIMITS)
    budget = store.budget(profile, EngineSettings(), "k#1", ("k#1", "k#2"))
    assert budget.api_key("k#1") == f"orderpace:{{desk}}:api:{key_digest('AKEY-one')}"
    assert budget.api_key("k#2") == f"orderpace:{{desk}}:api:{key_digest('AKEY-two')}"
    single = store.budget(profile, EngineSettings(), "live")
    assert single.api_key("live") == budget.api_key("k#1")  # one key: as before


async def _queries(redis_url: str, keys: int, seconds: float) -> tuple[int, dict[str, int]]:
    clock = RealClock()
    labels = tuple(f"key{i + 1}" for i in range(keys))
    markets = DEFAULT_MARKETS.subset(("XBT/USD",))
    x = SimulatedKraken(TIER, prices={"XBT/USD": [(0.0, 60000.0)]}, markets=markets,
                        keys=labels, seed=1)
    venue = pooled_sim_venue(SimulatedVenue(x, clock, latency=0.002), labels)
    link = Link(connect_client(redis_url))
    store = SharedStore(link, "desk", [f"secret-{k}" for k in labels])
    settings = EngineSettings(max_inflight=keys)
    budget = store.budget(KrakenProfile.for_tier(TIER, LIMITS), settings, labels[0],
                          labels if keys > 1 else None)
    engine = Engine(venue, tier=TIER, clock=clock, markets=markets, limits=LIMITS,
                    settings=settings, key_id=labels[0], budget=budget,
                    key_ids=labels if keys > 1 else None)
    if engine.keys is not None:
        engine.keys.follow(venue.pool)
    async with engine:
        handles = [engine.submit(QueryBalance()) for _ in range(120)]
        await asyncio.sleep(seconds)
        accepted = sum(1 for h in handles if h.done() and h.result().status is Status.ACCEPTED)
        await engine.aclose()
        await asyncio.gather(*handles)
    await link.aclose()
    return accepted, dict(x.stats.errors)


async def test_a_pool_of_three_keys_over_redis_gets_three_counters(redis_url: str) -> None:
    one, e1 = await _queries(redis_url, 1, 1.5)
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    three, e3 = await _queries(redis_url, 3, 1.5)
    names = sorted(k.decode() for k in client.keys("orderpace:{desk}:api:*"))
    client.close()
    print("\nshared store, queries in 1.5 s: one key", one, "three keys", three)
    assert ke.API_RATE_LIMIT not in e1 and ke.API_RATE_LIMIT not in e3, (e1, e3)
    assert names == sorted(f"orderpace:{{desk}}:api:{key_digest(f'secret-key{i}')}"
                           for i in (1, 2, 3))
    # the burst (20 units a key) and ~0.75 s of decay each: about 3x
    assert 2.5 * one <= three <= 3.3 * one, (one, three)
