"""The key pool (issue 11): one private request per key on the wire unless the key has a
nonce window; with one, every nonce on the wire within the window of the newest; keys
refused leave the pool; repeated nonce refusals serialize a key.  The property runs random
request streams over several jittered connections of the simulated venue: 0 nonce errors."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.clock import VirtualClock
from engine.core.inflight import InflightCap
from engine.core.keys import NONCE_STRIKES, KeyPool, LocalWire, NoKeysLeft, PoolKey
from engine.exchange import SimulatedKraken
from engine.venues.pooled import pooled_sim_venue
from engine.venues.simulated import SimulatedVenue
from tests.sim.simkit import flat

VALIDATE = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
            "price": "50000.0", "validate": "true"}


class Counting:
    """A nonce source counting up from 1 (per key)."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    async def next_nonce(self, key: str) -> int:
        self.last[key] = self.last.get(key, 0) + 1
        return self.last[key]


def pool_of(n: int, *, window: int = 0, limit: int = 8) -> KeyPool:
    nonces = Counting()
    return KeyPool([PoolKey(f"k{i}", i, LocalWire(f"k{i}", nonces, window=window, limit=limit))
                    for i in range(n)])


async def test_without_a_window_a_key_has_one_request_on_the_wire() -> None:
    pool = pool_of(1)
    key, first = await pool.acquire()
    second = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0.01)
    assert not second.done(), "a second request waits for the first reply"
    await pool.release(key, first)
    key2, nonce2 = await asyncio.wait_for(second, 1.0)
    assert key2 is key and nonce2 > first


async def test_with_a_window_requests_overlap_up_to_the_limit() -> None:
    pool = pool_of(1, window=100, limit=3)
    got = [await pool.acquire() for _ in range(3)]
    assert [n for _, n in got] == [1, 2, 3]
    fourth = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0.01)
    assert not fourth.done()
    await pool.release(*got[0])
    assert (await asyncio.wait_for(fourth, 1.0))[1] > 3


def test_a_nonce_beyond_the_window_of_one_on_the_wire_does_not_fit() -> None:
    wire = LocalWire("k", Counting(), window=10, limit=8)
    wire._inflight.append(100)
    assert wire.fits(110) and not wire.fits(111)
    strict = LocalWire("k", Counting())
    assert strict.fits(5)  # nothing on the wire
    strict._inflight.append(4)
    assert not strict.fits(5)


async def test_the_pool_spreads_requests_over_its_keys() -> None:
    pool = pool_of(3)
    got = [await pool.acquire() for _ in range(3)]
    assert sorted(k.label for k, _ in got) == ["k0", "k1", "k2"]
    assert pool.concurrency == 3


async def test_a_removed_key_leaves_the_pool_and_none_left_raises() -> None:
    seen: list[int] = []
    pool = pool_of(2)
    pool.on_capacity = seen.append
    k0, k1 = pool.keys
    assert pool.remove(k0, ke.INVALID_KEY) == 1
    assert seen == [1] and pool.live == (k1,)
    key, nonce = await pool.acquire()
    assert key is k1
    await pool.release(key, nonce)
    assert pool.remove(k1, ke.PERMISSION_DENIED) == 0
    with pytest.raises(NoKeysLeft):
        await pool.acquire()
    assert pool.report()[0]["removed"] == ke.INVALID_KEY


def test_repeated_nonce_refusals_serialize_a_windowed_key() -> None:
    seen: list[int] = []
    pool = pool_of(1, window=1000, limit=4)
    pool.on_capacity = seen.append
    key = pool.keys[0]
    for _ in range(NONCE_STRIKES - 1):
        pool.nonce_refused(key)
    pool.accepted(key)  # the streak ends
    for _ in range(NONCE_STRIKES - 1):
        pool.nonce_refused(key)
    assert key.wire.concurrency == 4
    pool.nonce_refused(key)
    assert key.wire.concurrency == 1 and seen == [1]
    assert key.health.nonce_refusals == 2 * NONCE_STRIKES - 1


def test_the_inflight_cap_follows_the_pool() -> None:
    cap = InflightCap(8)
    cap.limit(3)
    assert (cap.slots, cap.shared, cap.maximum) == (3, 2, 3)
    cap.limit(1)
    assert (cap.slots, cap.shared) == (1, 1)


# -- the property: random streams over jittered connections ---------------------------------


def stream(seed: int, keys: int, window: int, gaps: list[float], jitter: float) -> list[str]:
    clock = VirtualClock()
    labels = tuple(f"key{i}" for i in range(keys))
    x = SimulatedKraken("pro", prices=flat(), keys=labels, nonce_window=window)
    venue = pooled_sim_venue(SimulatedVenue(x, clock, latency=0.005, jitter=jitter, seed=seed),
                             labels, window=window)

    async def one(at: float) -> list[str]:
        await clock.sleep_until(at)
        errors: list[str] = (await venue.request("AddOrder", VALIDATE))["error"]
        return errors

    async def main() -> list[str]:
        at, tasks = 0.0, []
        for gap in gaps:
            at += gap
            tasks.append(one(at))
        return [e for errors in await asyncio.gather(*tasks) for e in errors]

    return clock.run(main())


@settings(max_examples=max(1, settings.default.max_examples // 2))
@given(seed=st.integers(0, 2**32), keys=st.integers(1, 3),
       window=st.sampled_from([0, 0, 20, 5_000]),
       gaps=st.lists(st.floats(0.0, 0.05), min_size=1, max_size=40),
       jitter=st.sampled_from([0.0, 0.03, 0.15]))
def test_no_nonce_error_over_jittered_connections(seed: int, keys: int, window: int,
                                                 gaps: list[float], jitter: float) -> None:
    errors = stream(seed, keys, window, gaps, jitter)
    assert ke.INVALID_NONCE not in errors, errors


def test_the_property_can_fail_without_the_pool() -> None:
    """The same stream sent without wire slots meets invalid nonces (the test has teeth)."""
    clock = VirtualClock()
    x = SimulatedKraken("pro", prices=flat())
    venue = SimulatedVenue(x, clock, latency=0.005, jitter=0.15, seed=1, nonces=True)

    async def main() -> list[list[str]]:
        replies = await asyncio.gather(*(venue.request("AddOrder", VALIDATE) for _ in range(30)))
        return [r["error"] for r in replies]

    assert [ke.INVALID_NONCE] in clock.run(main())


