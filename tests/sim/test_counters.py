"""The referee's own counter, and every tier's numbers as the exchange enforces them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.exchange import TickCounter

from .simkit import add, call, err, make, ok

# kraken-rate-limits.md s.1 and s.2, written out independently of limiters.tiers:
# tier -> (api max, api decay, trading max, trading decay, open orders per pair)
TIERS = {
    "starter": (15, 0.33, 60, 1.0, 60),
    "intermediate": (20, 0.5, 125, 2.34, 80),
    "pro": (20, 1.0, 180, 3.75, 225),
}


def test_continuous_decay() -> None:
    c = TickCounter(10, 2.0)
    c.charge(6, 1.0)
    assert c.level(1.0) == 6
    assert c.level(2.5) == pytest.approx(3.0)
    assert c.level(10.0) == 0.0
    assert c.level(0.0) == 6  # earlier times read as the counter's own time


def test_stepped_decay_releases_whole_ticks_at_absolute_times() -> None:
    c = TickCounter(60, 1.0, step=2.0, phase=0.5)  # ticks at 0.5, 2.5, 4.5, ...
    c.charge(10, 1.0)
    assert c.level(2.4999) == 10
    assert c.level(2.5) == 8  # one tick releases decay * step = 2 units
    assert c.level(4.4999) == 8
    assert c.level(4.5) == 6
    assert c.level(100.0) == 0.0


def test_stepped_decay_counts_a_tick_at_exactly_now_despite_float_error() -> None:
    c = TickCounter(60, 1.0, step=0.2)
    c.charge(1, 0.0)
    assert c.level(0.6) == pytest.approx(0.4)  # 0.6 / 0.2 = 2.9999999999999996 in floats


def test_refusal_threshold_is_level_plus_cost_above_max() -> None:
    c = TickCounter(10, 1.0)
    c.charge(9, 0.0)
    assert c.fits(1, 0.0)
    assert not c.fits(1.5, 0.0)
    assert c.fits(1.5, 0.5)
    c.charge(5, 0.0)  # charge is unconditional: batch cancels may pass the max
    assert c.level(0.0) == 14 and c.peak == 14


@pytest.mark.parametrize("bad", [(0, 1.0, 0.0), (1, 0, 0.0), (1, 1, -1.0), (math.inf, 1, 0.0)])
def test_bad_counters_are_refused(bad: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match="bad counter"):
        TickCounter(bad[0], bad[1], step=bad[2])


@given(
    step=st.sampled_from([0.0, 0.5, 2.0]),
    events=st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 6)), min_size=1, max_size=40
    ),
)
def test_counter_matches_a_tick_by_tick_model(
    step: float, events: list[tuple[int, int]]
) -> None:
    """Times in quarter seconds; the model releases each tick one at a time, clamped at 0."""
    decay, phase = 1.5, 0.25
    c = TickCounter(1000, decay, step=step, phase=phase)
    level, t = 0.0, 0.0
    for dq, cost in events:
        t_new = t + dq / 4
        if step == 0:
            level = max(0.0, level - decay * (t_new - t))
        else:
            k = math.floor((t - phase) / step) + 1
            while phase + k * step <= t_new:
                level = max(0.0, level - decay * step)
                k += 1
        t = t_new
        assert c.level(t) == pytest.approx(level, abs=1e-9)
        c.charge(cost, t)
        level += cost


@pytest.mark.parametrize("tier", list(TIERS))
def test_api_counter_numbers_per_tier(tier: str) -> None:
    api_max, api_decay, *_ = TIERS[tier]
    x = make(tier)
    for _ in range(api_max):
        ok(call(x, "Balance", 0.0))  # cost 1
    assert x.api_level("sim", 0.0) == api_max
    assert err(call(x, "Balance", 0.0)) == ke.API_RATE_LIMIT
    assert err(call(x, "Balance", 0.999 / api_decay)) == ke.API_RATE_LIMIT
    ok(call(x, "Balance", 1.0 / api_decay + 1e-6))
    # OpenOrders costs 2: needs two units of decay
    assert err(call(x, "OpenOrders", 2.0 / api_decay)) == ke.API_RATE_LIMIT
    ok(call(x, "OpenOrders", 3.0 / api_decay + 1e-6))
    assert x.peak_levels()["api"]["sim"] == api_max


@pytest.mark.parametrize("tier", list(TIERS))
def test_trading_counter_numbers_per_tier(tier: str) -> None:
    _, _, t_max, t_decay, _ = TIERS[tier]
    x = make(tier)
    for _ in range(t_max):  # market orders fill at once, so the open-order cap never binds
        ok(add(x, 0.0, ordertype="market", price=None, volume="0.0001"))
    assert x.trading_level("XBT/USD", 0.0) == t_max
    assert x.api_level("sim", 0.0) == 0  # order endpoints cost 0 on the API counter
    assert err(add(x, 0.0, ordertype="market", price=None)) == ke.ORDER_RATE_LIMIT
    assert err(add(x, 0.99 / t_decay)) == ke.ORDER_RATE_LIMIT
    # refusals are not charged: the level is what decay left
    assert x.trading_level("XBT/USD", 0.99 / t_decay) == pytest.approx(t_max - 0.99)
    ok(add(x, 1.0 / t_decay + 1e-6, ordertype="market", price=None, volume="0.0001"))
    ok(add(x, 0.0, pair="ETH/USD", price="2000.00"))  # another pair has its own counter


@pytest.mark.parametrize("tier", list(TIERS))
def test_open_order_cap_per_tier(tier: str) -> None:
    *_, t_decay, cap = TIERS[tier]
    x = make(tier)
    gap = 1.0 / t_decay  # one add per unit of decay keeps the counter low
    for i in range(cap):
        ok(add(x, i * gap, price=f"{40000 + i}.0"))
    assert x.open_order_count("XBT/USD") == cap
    before = x.trading_level("XBT/USD", cap * gap)
    assert err(add(x, cap * gap)) == ke.ORDERS_LIMIT
    assert x.trading_level("XBT/USD", cap * gap) == pytest.approx(before + 1)  # fixed part
    assert x.open_order_count("XBT/USD") == cap
    ok(add(x, cap * gap + 1, pair="SOL/USD", price="100.00", volume="1"))  # cap is per pair
