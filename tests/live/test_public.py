"""Public-endpoint pacing around asyncio_throttle."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from engine.venues.kraken_rest.public import PublicThrottle
from limiters.costs import PUBLIC_RATE_PER_SECOND


def test_default_is_kraken_public_rate_one_at_a_time() -> None:
    throttle = PublicThrottle()
    assert throttle.rate_per_second == PUBLIC_RATE_PER_SECOND
    assert throttle.burst == 1
    assert throttle.period == pytest.approx(1.0 / PUBLIC_RATE_PER_SECOND)
    assert throttle._throttler.rate_limit == 1


def test_burst_widens_the_window_not_the_rate() -> None:
    throttle = PublicThrottle(2.0, burst=4)
    assert throttle.period == pytest.approx(2.0)
    assert throttle._throttler.rate_limit == 4


@pytest.mark.parametrize(
    ("rate", "burst", "retry"),
    [(0.0, 1, 0.01), (-1.0, 1, 0.01), (float("nan"), 1, 0.01), (1.0, 0, 0.01), (1.0, 1, 0.0)],
)
def test_settings_validated(rate: float, burst: int, retry: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        PublicThrottle(rate, burst=burst, retry_interval=retry)


async def test_requests_are_spaced_by_the_period() -> None:
    throttle = PublicThrottle(20.0, retry_interval=0.002)  # one per 50 ms
    starts: list[float] = []

    async def one() -> None:
        async with throttle:
            starts.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(4)))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.045 for gap in gaps), gaps
    # paced, not stalled: 3 periods are 0.15 s; a loaded machine may stretch them, not 20x
    assert starts[-1] - starts[0] < 3.0


async def test_burst_lets_several_start_together() -> None:
    throttle = PublicThrottle(40.0, burst=2, retry_interval=0.002)  # 2 per 50 ms
    starts: list[float] = []

    async def one() -> None:
        async with throttle:
            starts.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(4)))
    assert starts[1] - starts[0] < 0.045  # the second starts within the first's period
    assert starts[2] - starts[0] >= 0.045
