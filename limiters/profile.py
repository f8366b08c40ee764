"""A venue profile: the counter specs a tier implies, under chosen safety settings.

:class:`LimiterSettings` says how much the model must allow for what it cannot see
(``kraken-rate-limits.md`` section 3):

* ``decay_step`` (s): model decay in steps of this many seconds; exact when it equals the
  exchange's own step, 0 for continuous decay.
* ``unseen_step`` (s): how many seconds of decay the exchange may hold back when the
  model's step is not the exchange's; costs ``decay * unseen_step`` units of margin.
* ``jitter`` (s): spread of network latency.  Two requests sent ``d`` s apart may arrive
  ``d - jitter`` apart, so the exchange sees ``decay * jitter`` units less decay (under
  stepped decay: up to one whole step less, see :meth:`LimiterSettings.margin_for`).
* ``margin`` (units): a flat extra margin.

Margin of a counter = ``margin + decay * (unseen_step + jitter)``.

Safe live defaults (:meth:`LimiterSettings.live`): continuous decay, ``unseen_step`` 2 s
(Kraken: decay "every couple of seconds"), ``jitter`` 0.5 s, ``margin`` 1 unit.  For the
Intermediate trading counter (2.34 u/s) that keeps 1 + 2.34 * 2.5 = 6.85 of 125 units
free.  :meth:`LimiterSettings.exact` (no margin) is right only against a simulated
exchange whose step and jitter the model matches (:meth:`LimiterSettings.matching`).
"""

from __future__ import annotations

import math

import attrs

from limiters.counter import CounterSpec
from limiters.errors import non_negative
from limiters.tiers import Tier, TierLimits, tier_limits

__all__ = ["KrakenProfile", "LimiterSettings"]



@attrs.frozen(slots=True)
class LimiterSettings:
    """Margins for what the model cannot observe; see the module docstring for the units."""

    decay_step: float = attrs.field(default=0.0, validator=non_negative("decay_step"))
    unseen_step: float = attrs.field(default=0.0, validator=non_negative("unseen_step"))
    jitter: float = attrs.field(default=0.0, validator=non_negative("jitter"))
    margin: float = attrs.field(default=0.0, validator=non_negative("margin"))

    @classmethod
    def live(cls) -> LimiterSettings:
        """Safe defaults against the real exchange (unknown step, real network)."""
        return cls(decay_step=0.0, unseen_step=2.0, jitter=0.5, margin=1.0)

    @classmethod
    def exact(cls) -> LimiterSettings:
        """No margin at all: only against an exchange with continuous decay and no jitter."""
        return cls()

    @classmethod
    def matching(cls, decay_step: float = 0.0, jitter: float = 0.0) -> LimiterSettings:
        """Settings that match a simulated exchange with this decay step and jitter (s)."""
        return cls(decay_step=decay_step, jitter=jitter)

    def margin_for(self, decay: float) -> float:
        """Margin in counter units for a counter decaying at ``decay`` units per second.

        ``margin + decay * (unseen_step + j)`` where ``j = jitter`` under continuous decay.
        Under stepped decay jitter can hide a whole tick: an interval the model measures as
        ``T`` seconds may reach the exchange ``jitter`` seconds shorter and so hold one tick
        fewer, hence ``j = decay_step * ceil(jitter / decay_step)``.
        """
        j = self.jitter
        if self.decay_step > 0.0 and j > 0.0:
            j = self.decay_step * math.ceil(j / self.decay_step)
        return self.margin + decay * (self.unseen_step + j)

    def spec(self, maximum: float, decay: float) -> CounterSpec:
        """A :class:`CounterSpec` with these settings' step and margin."""
        return CounterSpec(maximum, decay, self.decay_step, self.margin_for(decay))


@attrs.frozen(slots=True)
class KrakenProfile:
    """Kraken's limits for one tier, as counter specs under ``settings``."""

    limits: TierLimits
    settings: LimiterSettings = attrs.field(factory=LimiterSettings.live)

    @classmethod
    def for_tier(
        cls, tier: str | Tier, settings: LimiterSettings | None = None
    ) -> KrakenProfile:
        """The profile of ``tier`` (name or :class:`Tier`); live-safe settings by default."""
        return cls(tier_limits(tier), settings if settings is not None else LimiterSettings.live())

    @property
    def tier(self) -> Tier:
        return self.limits.tier

    @property
    def api(self) -> CounterSpec:
        """The per-key REST API call counter."""
        return self.settings.spec(self.limits.api_max, self.limits.api_decay)

    @property
    def trading(self) -> CounterSpec:
        """The per-pair matching-engine counter."""
        return self.settings.spec(self.limits.trading_max, self.limits.trading_decay)

    @property
    def max_open_orders(self) -> int:
        """Open orders allowed per pair."""
        return self.limits.max_open_orders
