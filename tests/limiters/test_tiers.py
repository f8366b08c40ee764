"""Kraken tiers: every number exactly as in kraken-rate-limits.md sections 1 and 2."""

from __future__ import annotations

import pytest

from limiters.errors import LimiterError, UnknownTier
from limiters.tiers import KRAKEN_TIERS, Tier, TierLimits, tier_limits

# tier, api max, api decay (u/s), trading max, trading decay (u/s), max open orders per pair
DOCUMENTED = [
    (Tier.STARTER, 15, 0.33, 60, 1.0, 60),
    (Tier.INTERMEDIATE, 20, 0.5, 125, 2.34, 80),
    (Tier.PRO, 20, 1.0, 180, 3.75, 225),
]


@pytest.mark.parametrize(
    ("tier", "api_max", "api_decay", "trading_max", "trading_decay", "open_orders"), DOCUMENTED
)
def test_tier_numbers_match_the_reference(
    tier: Tier,
    api_max: float,
    api_decay: float,
    trading_max: float,
    trading_decay: float,
    open_orders: int,
) -> None:
    limits = KRAKEN_TIERS[tier]
    assert limits == TierLimits(
        tier,
        api_max=api_max,
        api_decay=api_decay,
        trading_max=trading_max,
        trading_decay=trading_decay,
        max_open_orders=open_orders,
    )
    assert limits.tier is tier
    assert tier_limits(tier) is limits
    assert tier_limits(tier.value) is limits


def test_every_tier_has_a_row_and_nothing_else() -> None:
    assert set(KRAKEN_TIERS) == set(Tier) == {row[0] for row in DOCUMENTED}


@pytest.mark.parametrize(
    ("name", "tier"),
    [
        ("starter", Tier.STARTER),
        ("STARTER", Tier.STARTER),
        ("Intermediate", Tier.INTERMEDIATE),
        ("iNtErMeDiAtE", Tier.INTERMEDIATE),
        ("pro", Tier.PRO),
        ("PRO", Tier.PRO),
        ("  Pro\n", Tier.PRO),
        (Tier.PRO, Tier.PRO),
    ],
)
def test_parse_is_case_insensitive(name: str | Tier, tier: Tier) -> None:
    assert Tier.parse(name) is tier
    assert tier_limits(name).tier is tier


@pytest.mark.parametrize("name", ["expert", "", "pro+", "starter intermediate", "0"])
def test_unknown_tier_names_the_known_tiers(name: str) -> None:
    with pytest.raises(UnknownTier) as info:
        Tier.parse(name)
    message = str(info.value)
    assert repr(name) in message
    for known in ("starter", "intermediate", "pro"):
        assert known in message
    assert info.value.tier == name
    assert isinstance(info.value, LimiterError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [None, 1, 2.0, b"pro", ["pro"]])
def test_non_string_tiers_are_unknown(value: object) -> None:
    with pytest.raises(UnknownTier, match="expected one of: starter, intermediate, pro"):
        Tier.parse(value)  # type: ignore[arg-type]


def test_tier_limits_refuses_unknown_names() -> None:
    with pytest.raises(UnknownTier):
        tier_limits("platinum")


def test_limits_are_immutable() -> None:
    limits = KRAKEN_TIERS[Tier.PRO]
    with pytest.raises(AttributeError):
        limits.api_max = 99  # type: ignore[misc]
