"""The referee's own table of Kraken's verification tiers (kraken-rate-limits.md s.1, s.2).

Written from the rules document, deliberately not imported from ``limiters``: a test holds
this table and the engine's against every documented value, so the two readings must agree.

=============  =======  =========  ===========  =============  ====================
tier           API max  API decay  trading max  trading decay  open orders per pair
=============  =======  =========  ===========  =============  ====================
starter        15       0.33 u/s   60           1.0 u/s        60
intermediate   20       0.5 u/s    125          2.34 u/s       80
pro            20       1.0 u/s    180          3.75 u/s       225
=============  =======  =========  ===========  =============  ====================

Units: counter levels and maxima in units, decay in units per second.
"""

from __future__ import annotations

import attrs

__all__ = ["TIERS", "TierRules", "UnknownTierName", "tier_rules"]


class UnknownTierName(ValueError):
    """A tier name that is not ``starter``, ``intermediate`` or ``pro``."""

    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(f"unknown tier {name!r}; known: {', '.join(TIERS)}")


@attrs.frozen(slots=True)
class TierRules:
    """One tier's limits: API counter (per key), trading counter and open orders (per pair)."""

    name: str
    api_max: float
    api_decay: float
    trading_max: float
    trading_decay: float
    max_open_orders: int


#: The three tiers, by lower-case name.
TIERS: dict[str, TierRules] = {
    "starter": TierRules("starter", 15, 0.33, 60, 1.0, 60),
    "intermediate": TierRules("intermediate", 20, 0.5, 125, 2.34, 80),
    "pro": TierRules("pro", 20, 1.0, 180, 3.75, 225),
}


def tier_rules(name: object) -> TierRules:
    """The rules of tier ``name`` (any case; a ``str`` enum member works too)."""
    if isinstance(name, TierRules):
        return name
    rules = TIERS.get(name.strip().lower()) if isinstance(name, str) else None
    if rules is None:
        raise UnknownTierName(name)
    return rules
