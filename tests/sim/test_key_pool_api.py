"""Issue 11 item 2: one API counter per key of a pool, charged on the key the request goes
out on.  A query-heavy stream through the engine over a pool of keys into the simulated
exchange (which counts API per key): 3 keys give about 3x the query throughput of one, with
0 ``EAPI:Rate limit exceeded`` at the referee; per-key counters never pass their max; a
key removed from the pool takes its counter with it."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.clock import VirtualClock
from engine.core.apikeys import KeyRing
from engine.core.budget import MemoryBudget
from engine.core.engine import Engine, EngineSettings
from engine.exchange import SimulatedKraken
from engine.intents import AddOrder, Intent, QueryBalance, QueryOpenOrders, QueryOrders, Side
from engine.markets import DEFAULT_MARKETS
from engine.outcomes import Outcome, Status
from engine.venues.pooled import pooled_sim_venue
from engine.venues.simulated import SimulatedVenue
from limiters import KrakenProfile, LimiterSettings

from .simkit import flat

PAIRS = ("XBT/USD",)
TIER = "intermediate"


def run_queries(keys: int, *, seconds: float, intents: list[Intent] | None = None,
                jitter: float = 0.0, seed: int = 1, window: int = 0
                ) -> tuple[int, Counter[str], dict[str, float], Counter[str], SimulatedKraken]:
    """A backlog of QueryBalance (or ``intents``) through an engine over ``keys`` keys for
    ``seconds`` of virtual time: (queries accepted, the referee's errors, its per-key API
    peaks, the requests each key sent)."""
    clock = VirtualClock()
    labels = tuple(f"key{i + 1}" for i in range(keys))
    markets = DEFAULT_MARKETS.subset(PAIRS)
    prices = {p: path for p, path in flat().items() if p in PAIRS}
    x = SimulatedKraken(TIER, prices=prices, markets=markets, keys=labels,
                        nonce_window=window, seed=seed)
    venue = pooled_sim_venue(SimulatedVenue(x, clock, latency=0.01, jitter=jitter, seed=seed),
                             labels, window=window)
    stream = intents if intents is not None else [QueryBalance() for _ in range(2000)]

    async def main() -> int:
        engine = Engine(venue, tier=TIER, clock=clock, markets=markets,
                        limits=LimiterSettings.matching(0.0, jitter),
                        settings=EngineSettings(max_inflight=min(8, venue.pool.concurrency),
                                                nonce_window=window),
                        key_id=labels[0], key_ids=labels if keys > 1 else None)
        if engine.keys is not None:
            engine.keys.follow(venue.pool)
        async with engine:
            handles = [engine.submit(i) for i in stream]
            await clock.sleep_until(seconds)
            done = [h.result() for h in handles if h.done()]
            await engine.aclose()
            outs: list[Outcome] = list(await asyncio.gather(*handles))
        assert all(o.status is not None for o in outs)  # every intent resolved
        return sum(1 for o in done if o.status is Status.ACCEPTED)

    accepted = clock.run(main())
    sent = Counter({k["key"]: int(k["requests"]) for k in venue.pool.report()})  # type: ignore[call-overload]
    return accepted, Counter(x.stats.errors), x.peak_levels()["api"], sent, x


def test_three_keys_give_about_three_times_the_query_throughput() -> None:
    one, errors1, peaks1, _, _ = run_queries(1, seconds=120.0)
    three, errors3, peaks3, sent, _ = run_queries(3, seconds=120.0)
    api = KrakenProfile.for_tier(TIER).api
    assert errors1[ke.API_RATE_LIMIT] == 0 and errors3[ke.API_RATE_LIMIT] == 0
    assert not errors1 and not errors3
    assert 2.7 <= three / one <= 3.2, (one, three)
    assert len(peaks3) == 3 and all(p <= api.maximum for p in peaks3.values())
    assert max(peaks1.values()) <= api.maximum
    assert min(sent.values()) >= 0.9 * max(sent.values())  # spread over the keys


def test_trading_counters_stay_per_account_with_a_pool() -> None:
    """Adds are not API-charged: a pool of 3 keys places no more than one key does."""
    adds: list[Intent] = [AddOrder("XBT/USD", Side.BUY, Decimal("0.001"),
                                   Decimal(50000 - i)) for i in range(60)]
    one, e1, *_ = run_queries(1, seconds=5.0, intents=adds)
    three, e3, *_ = run_queries(3, seconds=5.0, intents=adds)
    assert not e1 and not e3
    assert three == one


def test_a_removed_key_takes_its_counter_with_it() -> None:
    ring = KeyRing(["a", "b", "c"])
    assert ring.candidates(0.0) == ["a", "b", "c"]
    ring.sent("a")
    assert ring.candidates(0.0) == ["b", "c"]  # a's wire slot is taken
    ring.refused("b", 5.0)
    assert ring.candidates(1.0) == ["c"]
    ring.refused("c", 7.0)
    assert ring.candidates(1.0) == [] and ring.next_ready() == 5.0
    assert ring.remove("c") and not ring.remove("c")
    assert ring.candidates(10.0) == ["b"]
    ring.done("a")
    assert ring.candidates(10.0) == ["a", "b"] or ring.candidates(10.0) == ["b", "a"]
    assert ring.pick() in ("a", "b") and "c" not in ring.live


def test_the_engine_follows_the_pool_when_the_exchange_refuses_a_key() -> None:
    """The exchange does not know key3: it is refused (EAPI:Invalid key), leaves the pool
    and the engine's ring, and the queries go on the other two keys' counters."""
    clock = VirtualClock()
    labels = ("key1", "key2", "key3")
    markets = DEFAULT_MARKETS.subset(PAIRS)
    prices = {p: path for p, path in flat().items() if p in PAIRS}
    x = SimulatedKraken(TIER, prices=prices, markets=markets, keys=labels[:2], seed=3)
    venue = pooled_sim_venue(SimulatedVenue(x, clock, latency=0.01, seed=3), labels)

    async def main() -> list[Outcome]:
        engine = Engine(venue, tier=TIER, clock=clock, markets=markets,
                        settings=EngineSettings(max_inflight=3), key_id="key1", key_ids=labels)
        assert engine.keys is not None
        engine.keys.follow(venue.pool)
        async with engine:
            handles = [engine.submit(QueryBalance()) for _ in range(30)]
            await clock.sleep_until(60.0)
            outs = list(await asyncio.gather(*handles))
            assert engine.keys.live == ("key1", "key2")
            assert isinstance(engine.budget, MemoryBudget)
        return outs

    outs = clock.run(main())
    assert all(o.status is not None for o in outs)
    assert not x.stats.errors.get(ke.API_RATE_LIMIT)


@given(st.lists(st.sampled_from(["balance", "open", "orders"]), min_size=1, max_size=60),
       st.integers(1, 3), st.integers(0, 2**16), st.sampled_from([0.0, 0.05]))
@settings(max_examples=max(1, settings.default.max_examples // 4), deadline=None)
def test_per_key_api_counters_never_pass_their_max(kinds: list[str], keys: int, seed: int,
                                                   jitter: float) -> None:
    make = {"balance": QueryBalance, "open": QueryOpenOrders,
            "orders": lambda: QueryOrders(("OABCDE-FGHIJ-KLMNOP",))}
    intents: list[Intent] = [make[k]() for k in kinds]  # type: ignore[operator]
    _, errors, peaks, _, _ = run_queries(keys, seconds=200.0, intents=intents, jitter=jitter,
                                         seed=seed)
    api = KrakenProfile.for_tier(TIER).api
    assert errors[ke.API_RATE_LIMIT] == 0 and errors[ke.INVALID_NONCE] == 0
    assert all(p <= api.maximum for p in peaks.values())


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
