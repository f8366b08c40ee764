"""Whether the engine's safety margins leave room to trade on a tier, and the largest
decay step and jitter that do.

The engine keeps ``margin + decay * (unseen_step + j)`` units of each counter free
(:meth:`limiters.LimiterSettings.margin_for`), where ``j`` is the jitter, rounded up to
whole decay steps under stepped decay: ``j = step * ceil(jitter / step)``.  A counter can
still take its costliest single request only if that margin is at most
``max - costliest``, where the costliest charge is :func:`costliest_trading` units on the
trading counter (8: a cancel of an order younger than 5 s) and :func:`costliest_api` on
the API counter (2: OpenOrders, ClosedOrders, ledgers).  So, over both counters, ``j`` may
be at most the *room* (seconds)::

    room = min over counters of (max - costliest - margin) / decay  -  unseen_step

Intermediate tier, margins matching a known server (``margin = unseen_step = 0``): trading
``(125 - 8) / 2.34 = 50.0`` s, API ``(20 - 2) / 0.5 = 36`` s, so the room is 36 s.  Then:

* the largest jitter (s) for a decay step ``s > 0`` is ``s * floor(room / s)`` (``room``
  with continuous decay);
* the largest decay step for a jitter ``J > 0`` is ``room`` (a step of at least ``J`` makes
  ``j = step``), provided ``J <= room``; with ``J = 0`` any step fits.

:func:`margin_problem` says which counter a :class:`~limiters.LimiterSettings` leaves
without room, or None.
"""

from __future__ import annotations

import math

import attrs

from limiters import (
    API_COSTS,
    BATCH_ADD_MAX,
    LimiterSettings,
    Tier,
    Transaction,
    add_batch_penalty,
    penalty,
    tier_limits,
)

__all__ = [
    "MIN_DECAY_STEP",
    "MarginProblem",
    "check_decay_step",
    "costliest_api",
    "costliest_trading",
    "largest_decay_step",
    "largest_jitter",
    "margin_problem",
    "room",
]


#: The smallest decay step (s) other than 0 (continuous): below a millisecond a stepped model
#: is continuous for every purpose, and step arithmetic (``ceil(jitter / step)``) overflows
#: near 1e-308.
MIN_DECAY_STEP = 0.001


def check_decay_step(decay_step: float) -> str | None:
    """Why ``decay_step`` (s, finite and >= 0) cannot be a decay step, or None."""
    if 0 < decay_step < MIN_DECAY_STEP:
        return (f"decay_step must be 0 (continuous) or at least {MIN_DECAY_STEP:g} seconds, "
                f"got {decay_step!r}")
    return None


def costliest_trading() -> int:
    """The largest single charge on the trading counter (units): the costliest transaction
    on a brand-new order, or a full AddOrderBatch."""
    return max(max(penalty(t, 0.0) for t in Transaction), add_batch_penalty(BATCH_ADD_MAX))


def costliest_api() -> int:
    """The largest single charge on the API counter (units)."""
    return max(API_COSTS.values())


@attrs.frozen(slots=True)
class MarginProblem:
    """A counter the margins leave without room for its costliest request (units, u/s)."""

    counter: str  # "trading" or "API"
    maximum: float
    decay: float
    costliest: int
    margin: float

    def __str__(self) -> str:
        return (f"the engine would keep {self.margin:.6g} of the {self.counter} counter's "
                f"{self.maximum:g} units free (decay {self.decay:g}/s), leaving less than its "
                f"costliest request ({self.costliest} units)")


def _counters(tier: Tier) -> tuple[tuple[str, float, float, int], ...]:
    lim = tier_limits(tier)
    return (("trading", lim.trading_max, lim.trading_decay, costliest_trading()),
            ("API", lim.api_max, lim.api_decay, costliest_api()))


def margin_problem(tier: Tier, settings: LimiterSettings) -> MarginProblem | None:
    """The first counter (trading, then API) whose margin under ``settings`` leaves less
    than its costliest request below its max, or None when both have room."""
    for name, maximum, decay, cost in _counters(tier):
        margin = settings.margin_for(decay)
        if not margin <= maximum - cost:  # NaN and inf fail too
            return MarginProblem(name, maximum, decay, cost, margin)
    return None


def room(tier: Tier, *, margin: float = 0.0, unseen_step: float = 0.0) -> float:
    """Seconds of jitter (after rounding to steps) both counters have room for (see the
    module docstring); negative when even none fits."""
    return min((maximum - cost - margin) / decay
               for _n, maximum, decay, cost in _counters(tier)) - unseen_step


def largest_jitter(tier: Tier, *, decay_step: float, margin: float = 0.0,
                   unseen_step: float = 0.0) -> float:
    """The largest jitter (s) the margins allow with ``decay_step`` (0: continuous);
    negative when none does."""
    r = room(tier, margin=margin, unseen_step=unseen_step)
    if decay_step <= 0 or r < 0:
        return r
    return decay_step * math.floor(r / decay_step)


def largest_decay_step(tier: Tier, *, jitter: float, margin: float = 0.0,
                       unseen_step: float = 0.0) -> float | None:
    """The largest decay step (s) the margins allow with ``jitter``: ``room``; ``inf`` when
    the jitter is 0 (the step then adds no margin); None when ``jitter`` alone is too much."""
    r = room(tier, margin=margin, unseen_step=unseen_step)
    if jitter <= 0:
        return math.inf if r >= 0 else None
    return r if jitter <= r else None
