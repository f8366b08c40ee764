"""SimulatedVenue models an HTTP client's connection pool (issue 11, item 5): a request takes
a free connection or opens one; one connection is FIFO; each connection has its own seeded
jitter, so concurrent requests may reorder -- deterministically for a seed."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.clock import VirtualClock
from engine.exchange import SimulatedKraken
from engine.venues.simulated import SimulatedVenue

from .simkit import flat

VALIDATE = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
            "price": "50000.0", "validate": "true"}


def burst(seed: int, n: int, *, jitter: float, window: int = 0,
          one_at_a_time: bool = False) -> tuple[list[list[str]], int, list[float]]:
    """``n`` concurrent private requests with nonces taken in order at send time: the
    replies' errors, the connections opened, and the arrival times."""
    clock = VirtualClock()
    x = SimulatedKraken("pro", prices=flat(), nonce_window=window)
    arrivals: list[float] = []
    original = x.handle

    def spy(*args: object, **kw: object) -> dict[str, object]:
        arrivals.append(clock.now())
        return original(*args, **kw)  # type: ignore[arg-type]

    x.handle = spy  # type: ignore[method-assign]
    venue = SimulatedVenue(x, clock, latency=0.01, jitter=jitter, seed=seed, nonces=True)

    async def main() -> list[list[str]]:
        if one_at_a_time:
            return [(await venue.request("AddOrder", VALIDATE))["error"] for _ in range(n)]
        replies = await asyncio.gather(*(venue.request("AddOrder", VALIDATE) for _ in range(n)))
        return [r["error"] for r in replies]

    return clock.run(main()), venue.connections, arrivals


def test_concurrent_requests_open_connections_and_can_reorder() -> None:
    errors, conns, _ = burst(seed=1, n=40, jitter=0.03)
    assert conns == 40  # all at once: one connection each
    refused = sum(e == [ke.INVALID_NONCE] for e in errors)
    assert 0 < refused < 40 and all(e in ([], [ke.INVALID_NONCE]) for e in errors)


def test_one_request_at_a_time_reuses_one_connection_and_never_reorders() -> None:
    errors, conns, _ = burst(seed=1, n=40, jitter=0.03, one_at_a_time=True)
    assert conns == 1 and all(e == [] for e in errors)


def test_a_nonce_window_absorbs_the_reordering() -> None:
    errors, _, _ = burst(seed=1, n=40, jitter=0.03, window=10_000)
    assert all(e == [] for e in errors)


@settings(max_examples=max(1, settings.default.max_examples * 2 // 5))  # 20 by default
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=2, max_value=30))
def test_the_pool_is_deterministic_for_a_seed(seed: int, n: int) -> None:
    assert burst(seed, n, jitter=0.02) == burst(seed, n, jitter=0.02)


def test_a_given_nonce_and_key_are_used_as_is() -> None:
    clock = VirtualClock()
    x = SimulatedKraken("pro", prices=flat(), keys=("sim", "other"))
    venue = SimulatedVenue(x, clock)

    async def main() -> list[list[str]]:
        out = []
        for nonce, key in ((5, "sim"), (5, "other"), (4, "sim"), (6, None)):
            reply = await venue.request("Balance", {}, key=key, nonce=nonce)
            out.append(reply["error"])
        return out

    assert clock.run(main()) == [[], [], [ke.INVALID_NONCE], []]
    assert x.api_level("other", 0.0) == 1 and x.api_level("sim", 0.0) == 2


def test_a_bounded_pool_queues_requests_in_order() -> None:
    clock = VirtualClock()
    x = SimulatedKraken("pro", prices=flat())
    venue = SimulatedVenue(x, clock, latency=0.01, max_connections=2)

    async def main() -> list[float]:
        start = clock.now()
        done: list[float] = []

        async def one() -> None:
            await venue.request("Balance", {})
            done.append(clock.now() - start)

        await asyncio.gather(*(one() for _ in range(6)))
        return done

    assert clock.run(main()) == pytest.approx([0.02, 0.02, 0.04, 0.04, 0.06, 0.06])
    assert venue.connections == 2
