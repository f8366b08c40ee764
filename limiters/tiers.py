"""Kraken verification tiers and their counter limits.

Every number here comes from ``kraken-rate-limits.md`` (sections 1 and 2), which cites
Kraken's REST and spot-trading rate-limit pages.  They live here once; nothing else in the
code base writes them as literals.
"""

from __future__ import annotations

import enum

import attrs

from limiters.errors import UnknownTier

__all__ = ["KRAKEN_TIERS", "Tier", "TierLimits", "tier_limits"]


class Tier(enum.StrEnum):
    """Kraken account verification tiers."""

    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"

    @classmethod
    def parse(cls, value: str | Tier) -> Tier:
        """The tier named ``value`` (case-insensitive), else :class:`UnknownTier`."""
        if isinstance(value, Tier):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        raise UnknownTier(value, tuple(t.value for t in cls))


@attrs.frozen(slots=True)
class TierLimits:
    """One tier's limits.

    ``api_max`` / ``api_decay``: REST API call counter per key (units, units per second).
    ``trading_max`` / ``trading_decay``: matching-engine counter per (account, pair).
    ``max_open_orders``: open orders per pair.
    """

    tier: Tier
    api_max: float
    api_decay: float
    trading_max: float
    trading_decay: float
    max_open_orders: int


#: kraken-rate-limits.md section 1 (API counter) and section 2 (trading counter).
KRAKEN_TIERS: dict[Tier, TierLimits] = {
    Tier.STARTER: TierLimits(
        Tier.STARTER, api_max=15, api_decay=0.33,
        trading_max=60, trading_decay=1.0, max_open_orders=60,
    ),
    Tier.INTERMEDIATE: TierLimits(
        Tier.INTERMEDIATE, api_max=20, api_decay=0.5,
        trading_max=125, trading_decay=2.34, max_open_orders=80,
    ),
    Tier.PRO: TierLimits(
        Tier.PRO, api_max=20, api_decay=1.0,
        trading_max=180, trading_decay=3.75, max_open_orders=225,
    ),
}


def tier_limits(tier: str | Tier) -> TierLimits:
    """Limits of ``tier`` (a :class:`Tier` or its name); :class:`UnknownTier` otherwise."""
    return KRAKEN_TIERS[Tier.parse(tier)]
