"""LimiterSettings margins and KrakenProfile specs per tier."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limiters.counter import CounterSpec
from limiters.errors import InvalidAmount, UnknownTier
from limiters.profile import KrakenProfile, LimiterSettings
from limiters.tiers import KRAKEN_TIERS, Tier

LIVE_SECONDS = 2.0 + 0.5  # unseen_step + jitter of the live defaults


def test_defaults_are_exact() -> None:
    assert LimiterSettings() == LimiterSettings(0.0, 0.0, 0.0, 0.0)
    assert LimiterSettings.exact() == LimiterSettings()
    assert LimiterSettings.exact().margin_for(3.75) == 0.0


def test_live_defaults() -> None:
    live = LimiterSettings.live()
    assert (live.decay_step, live.unseen_step, live.jitter, live.margin) == (0.0, 2.0, 0.5, 1.0)


def test_matching() -> None:
    assert LimiterSettings.matching() == LimiterSettings()
    m = LimiterSettings.matching(decay_step=2.0, jitter=0.25)
    assert (m.decay_step, m.unseen_step, m.jitter, m.margin) == (2.0, 0.0, 0.25, 0.0)
    assert m.margin_for(4.0) == pytest.approx(8.0)  # jitter can hide a whole 2 s tick
    assert LimiterSettings.matching(jitter=0.25).margin_for(4.0) == pytest.approx(1.0)
    assert LimiterSettings.matching(decay_step=2.0).margin_for(4.0) == 0.0


@pytest.mark.parametrize(
    ("settings", "decay", "expected"),
    [
        (LimiterSettings.live(), 2.34, 6.85),  # the module docstring's Intermediate example
        (LimiterSettings.live(), 0.33, 1.825),
        (LimiterSettings.live(), 0.5, 2.25),
        (LimiterSettings.live(), 1.0, 3.5),
        (LimiterSettings.live(), 3.75, 10.375),
        (LimiterSettings(margin=2.0), 100.0, 2.0),
        (LimiterSettings(unseen_step=3.0), 2.0, 6.0),
        (LimiterSettings(jitter=0.1), 10.0, 1.0),
        (LimiterSettings(decay_step=5.0), 10.0, 0.0),  # a modelled step needs no margin
        (LimiterSettings(1.0, 1.0, 1.0, 1.0), 0.5, 2.0),
        # under stepped decay jitter counts in whole steps: step * ceil(jitter / step)
        (LimiterSettings(decay_step=2.0, jitter=0.25), 4.0, 8.0),
        (LimiterSettings(decay_step=2.0, jitter=2.0), 4.0, 8.0),
        (LimiterSettings(decay_step=2.0, jitter=2.5), 1.0, 4.0),
        (LimiterSettings(decay_step=0.5, jitter=1.2), 2.0, 3.0),
        (LimiterSettings(2.0, 1.0, 0.5, 1.0), 2.34, 1.0 + 2.34 * (1.0 + 2.0)),
    ],
)
def test_margin_for(settings: LimiterSettings, decay: float, expected: float) -> None:
    assert settings.margin_for(decay) == pytest.approx(expected)


@given(
    step=st.one_of(st.just(0.0), st.floats(0.01, 5)),
    unseen=st.floats(0, 10),
    jitter=st.floats(0, 5),
    margin=st.floats(0, 10),
    decay=st.floats(0.01, 100),
)
def test_margin_for_is_flat_plus_decay_times_seconds(
    step: float, unseen: float, jitter: float, margin: float, decay: float
) -> None:
    s = LimiterSettings(decay_step=step, unseen_step=unseen, jitter=jitter, margin=margin)
    hidden = step * math.ceil(jitter / step) if step > 0 else jitter
    assert s.margin_for(decay) == pytest.approx(margin + decay * (unseen + hidden))
    assert s.margin_for(decay) >= margin + decay * (unseen + jitter) - 1e-9


@pytest.mark.parametrize("field", ["decay_step", "unseen_step", "jitter", "margin"])
@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf, -math.inf, True, "1"])
def test_bad_settings_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidAmount, match=f"^{field} must be"):
        LimiterSettings(**{field: value})  # type: ignore[arg-type]


def test_spec() -> None:
    spec = LimiterSettings(decay_step=2.0, jitter=1.0, margin=0.5).spec(125, 2.34)
    assert spec == CounterSpec(125, 2.34, 2.0, 0.5 + 2.34 * 2.0)  # 1 s of jitter: a whole step
    continuous = LimiterSettings(jitter=1.0, margin=0.5).spec(125, 2.34)
    assert continuous == CounterSpec(125, 2.34, 0.0, 0.5 + 2.34)


def test_spec_refuses_a_margin_that_eats_the_maximum() -> None:
    with pytest.raises(InvalidAmount, match=r"^margin must be below the maximum 15"):
        LimiterSettings(margin=15.0).spec(15, 0.33)


@pytest.mark.parametrize("tier", list(Tier))
def test_live_profile_per_tier(tier: Tier) -> None:
    limits = KRAKEN_TIERS[tier]
    profile = KrakenProfile.for_tier(tier)
    assert profile.tier is tier
    assert profile.limits is limits
    assert profile.settings == LimiterSettings.live()
    assert profile.max_open_orders == limits.max_open_orders
    assert profile.api == CounterSpec(
        limits.api_max, limits.api_decay, 0.0, 1.0 + limits.api_decay * LIVE_SECONDS
    )
    assert profile.trading == CounterSpec(
        limits.trading_max, limits.trading_decay, 0.0, 1.0 + limits.trading_decay * LIVE_SECONDS
    )
    assert 0 < profile.api.capacity < profile.api.maximum
    assert 0 < profile.trading.capacity < profile.trading.maximum


# tier, api capacity, trading capacity under the live defaults
LIVE_CAPACITIES = [
    (Tier.STARTER, 15 - 1.825, 60 - 3.5),
    (Tier.INTERMEDIATE, 20 - 2.25, 125 - 6.85),
    (Tier.PRO, 20 - 3.5, 180 - 10.375),
]


@pytest.mark.parametrize(("tier", "api_capacity", "trading_capacity"), LIVE_CAPACITIES)
def test_live_capacities(tier: Tier, api_capacity: float, trading_capacity: float) -> None:
    profile = KrakenProfile.for_tier(tier.value.upper())
    assert profile.api.capacity == pytest.approx(api_capacity)
    assert profile.trading.capacity == pytest.approx(trading_capacity)


@pytest.mark.parametrize("tier", list(Tier))
def test_exact_and_matching_profiles(tier: Tier) -> None:
    limits = KRAKEN_TIERS[tier]
    exact = KrakenProfile.for_tier(tier, LimiterSettings.exact())
    assert exact.api == CounterSpec(limits.api_max, limits.api_decay)
    assert exact.trading == CounterSpec(limits.trading_max, limits.trading_decay)
    assert exact.trading.capacity == limits.trading_max

    matching = KrakenProfile.for_tier(tier, LimiterSettings.matching(decay_step=2.0))
    assert matching.trading.step == 2.0
    assert matching.trading.margin == 0.0
    assert matching.api.step == 2.0


def test_profile_constructor_defaults_to_live() -> None:
    profile = KrakenProfile(KRAKEN_TIERS[Tier.PRO])
    assert profile.settings == LimiterSettings.live()


def test_unknown_tier() -> None:
    with pytest.raises(UnknownTier):
        KrakenProfile.for_tier("gold")
