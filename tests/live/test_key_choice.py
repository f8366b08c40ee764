"""The key a request goes out on is the engine's choice (issue 11 item 2): the live venue
sends on the key named by ``SEND_KEY``, and an engine over a pool of keys charges each
query on the API counter of the key it went out on."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from typing import Any

import httpx

from engine.core.apikeys import SEND_KEY
from engine.core.engine import Engine, EngineSettings
from engine.intents import QueryBalance
from engine.outcomes import Status
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.rest import KrakenRestVenue
from limiters import LimiterSettings

from .support import LEAK_KEY, LEAK_SECRET, ok

KEY2 = "SecondKey" + "Y" * 40
KEY3 = "ThirdKey" + "X" * 40
SECRET2 = base64.b64encode(b"second secret " + bytes(range(30))).decode()


def venue() -> tuple[KrakenRestVenue, Counter[str]]:
    seen: Counter[str] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.headers["API-Key"]] += 1
        return ok({})

    keys = [Credentials(LEAK_KEY, LEAK_SECRET), Credentials(KEY2, SECRET2),
            Credentials(KEY3, SECRET2)]
    return KrakenRestVenue(keys, transport=httpx.MockTransport(handler),
                           public_throttle=PublicThrottle(1000.0, burst=1000)), seen


async def test_the_venue_sends_on_the_key_the_engine_chose() -> None:
    v, seen = venue()
    assert v.pool is not None
    second = v.pool.keys[1].label

    async def on_second() -> None:
        SEND_KEY.set(second)
        await v.request("Balance", {})

    async with v:
        await v.request("Balance", {})  # no choice: the pool's pick (the first key, idle)
        await asyncio.gather(*(asyncio.create_task(on_second()) for _ in range(5)))
    assert seen == Counter({LEAK_KEY: 1, KEY2: 5})


async def test_queries_are_charged_on_the_key_they_go_out_on() -> None:
    v, seen = venue()
    assert v.pool is not None
    labels = tuple(k.label for k in v.pool.keys)
    engine = Engine(v, tier="intermediate", limits=LimiterSettings.matching(0.0, 0.0),
                    settings=EngineSettings(max_inflight=3), key_id=labels[0], key_ids=labels)
    assert engine.keys is not None
    engine.keys.follow(v.pool)
    async with v, engine:
        outs = await asyncio.gather(*(engine.submit(QueryBalance()) for _ in range(45)))
        levels = {k: engine.budget.api_level(k, engine.clock.now()) for k in labels}
    assert all(o.status is Status.ACCEPTED for o in outs)
    # 45 units over 3 keys of 20 each: all went out, 15 on each key, charged there
    assert sorted(seen.values()) == [15, 15, 15]
    by_label = dict(zip(labels, (seen[LEAK_KEY], seen[KEY2], seen[KEY3]), strict=True))
    for k in labels:
        assert abs(levels[k] - by_label[k]) < 1.0, (levels, by_label)


async def test_lookups_are_paced_on_the_key_they_go_out_on() -> None:
    from engine.venues.kraken_rest.pacing import api_pacer_for

    v, seen = venue()
    assert v.pool is not None
    labels = tuple(k.label for k in v.pool.keys)
    engine = Engine(v, tier="intermediate", key_id=labels[0], key_ids=labels)
    pacer = api_pacer_for(engine)

    async def lookup(key: str | None) -> None:
        if key is not None:
            SEND_KEY.set(key)  # a round trip of the engine's, on that key
        await pacer("QueryOrders", 1.0)
        await v.request("QueryOrders", {"txid": "O1"})

    async with v:
        await asyncio.create_task(lookup(labels[2]))
        await asyncio.create_task(lookup(None))  # outside any round trip: the default key
    now = engine.clock.now()
    assert [round(engine.budget.api_level(k, now)) for k in labels] == [1, 0, 1]
    assert seen == Counter({LEAK_KEY: 1, KEY3: 1})


async def _loopback_queries(start_server: Any, keys: int, seconds: float
                            ) -> tuple[int, dict[str, int]]:
    secrets = {f"loop-key-{i}": base64.b64encode(f"loopback-secret-{i}".encode() * 2).decode()
               for i in range(keys)}
    server = await start_server(keys=secrets, jitter=0.03, seed=5)
    cfg = server.config
    rest = KrakenRestVenue([Credentials(k, s) for k, s in secrets.items()], base_url=server.url)
    assert rest.pool is not None
    labels = tuple(k.label for k in rest.pool.keys)
    limits = LimiterSettings.matching(cfg.decay_step, cfg.jitter)
    engine = Engine(rest, tier=cfg.tier, limits=limits,
                    settings=EngineSettings(max_inflight=rest.pool.concurrency),
                    key_id=labels[0], key_ids=labels if keys > 1 else None)
    if engine.keys is not None:
        engine.keys.follow(rest.pool)
    async with rest, engine:
        handles = [engine.submit(QueryBalance()) for _ in range(150)]
        await asyncio.sleep(seconds)
        accepted = sum(1 for h in handles if h.done() and h.result().status is Status.ACCEPTED)
        await engine.aclose()
        outs = await asyncio.gather(*handles)
    assert all(o.status is not None for o in outs)  # every intent resolved
    return accepted, dict(server.exchange.stats.errors)


async def test_a_pool_of_three_on_loopback_triples_the_queries(start_server: Any) -> None:
    """Over HTTP to the simulated exchange (per-key API counters, 30 ms of jitter between
    connections): 0 rate-limit and 0 nonce errors at the referee, about 3x the queries."""
    one, e1 = await _loopback_queries(start_server, 1, 2.0)
    three, e3 = await _loopback_queries(start_server, 3, 2.0)
    print(f"\nloopback, queries accepted in 2 s: one key {one}, three keys {three}")
    assert not e1 and not e3, (e1, e3)
    # 3x in the virtual-clock test above; over real HTTP on a loaded 2-core machine three
    # keys' requests compete for the CPU (46 for 19 seen under a full suite), so 2x here.
    assert one >= 10 and 2.0 * one <= three <= 3.5 * one, (one, three)
