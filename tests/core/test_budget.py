"""The budget in memory, the in-flight cap, and the fences around batch cancels."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core import Charge, EngineSettings, InflightCap, MemoryBudget
from engine.core.fences import FENCE_EPSILON, Fences
from engine.errors import InvalidIntent
from limiters import KrakenProfile, LimiterSettings

from .streams import examples


def budget(tier: str = "intermediate", **kw: float) -> MemoryBudget:
    return MemoryBudget(KrakenProfile.for_tier(tier, LimiterSettings.exact()),
                        EngineSettings(**kw))  # type: ignore[arg-type]


def test_the_reserve_is_held_only_for_orders_that_may_need_a_cancel() -> None:
    b = budget()  # intermediate: capacity 125, reserve max(12.5, 8)
    assert b.reserve == 12.5
    assert [b.held(n) for n in (0, 1, 2)] == [0.0, 8.0, 12.5]
    for _ in range(112):  # adds fill the counter up to capacity - held(2) = 112.5
        assert b.charge_trading("XBT/USD", 1.0, 0.0, b.held(2)).charged
    refused = b.charge_trading("XBT/USD", 1.0, 0.0, b.held(2))
    assert not refused.charged and refused.wait == pytest.approx(0.5 / 2.34)
    cancel = b.charge_trading("XBT/USD", 8.0, 0.0, 0.0)  # cancels may use the reserve
    assert cancel == Charge(True, 0.0, 120.0)
    assert b.stats["XBT/USD"].charged == 120.0 and b.stats["XBT/USD"].requests == 113


def test_a_reserve_leaving_no_room_for_adds_is_refused() -> None:
    with pytest.raises(InvalidIntent, match="cancel_reserve"):
        budget("starter", min_cancel_reserve=59.5)


def test_force_saturate_resync_and_levels() -> None:
    b = budget()
    b.force_trading("ETH/USD", 200.0, 0.0)  # a batch cancel: past the max
    assert b.trading_level("ETH/USD", 0.0) == 200.0
    b.resync_trading("ETH/USD", 10.0, 1.0)
    assert b.trading_level("ETH/USD", 1.0) == 10.0
    b.saturate_trading("ETH/USD", 2.0)
    assert b.trading_level("ETH/USD", 2.0) == b.trading_max
    assert b.charge_api("k", 2.0, 0.0).charged and b.api_level("k", 0.0) == 2.0
    b.saturate_api("k", 0.0)
    assert b.api_level("k", 0.0) == b.api_max
    assert b.api_counter("k").level(0.0) == b.api_max  # the same state


@settings(max_examples=examples(1.0))
@given(events=st.lists(st.sampled_from(["throttled", "accepted"]), max_size=80),
       maximum=st.integers(1, 10))
def test_the_inflight_cap_halves_and_regrows_within_bounds(events: list[str],
                                                           maximum: int) -> None:
    cap = InflightCap(maximum)
    for e in events:
        before = cap.slots
        if e == "throttled":
            cap.throttled()
            assert cap.slots == max(1, before // 2)
        else:
            cap.accepted()
            assert cap.slots in (before, before + 1)
        assert 1 <= cap.slots <= maximum
        assert cap.shared == max(1, cap.slots - 1)  # one slot kept for cancels
    assert cap.free(cancel=True) and cap.free(cancel=False)
    for _ in range(cap.shared):
        cap.take()
    assert not cap.free(cancel=False) and cap.free(cancel=True) is (cap.slots > cap.shared)


def test_fences_order_batch_cancels_against_what_is_on_the_wire() -> None:
    f = Fences(jitter=0.02)
    assert f.until("XBT/USD") == -math.inf
    f.sent("XBT/USD", 10.0)
    assert f.earliest({"XBT/USD"}) == pytest.approx(10.02 + FENCE_EPSILON)
    assert f.earliest(set()) == -math.inf
    f.raise_after({"XBT/USD"}, 11.0)
    assert f.until("XBT/USD") == pytest.approx(11.02 + FENCE_EPSILON)
    assert f.until("ETH/USD") == -math.inf
    f.raise_after(None, 12.0)  # a CancelAll fences every pair
    assert f.until("ETH/USD") == pytest.approx(12.02 + FENCE_EPSILON)
    assert f.sent_pairs() == {"XBT/USD"}
