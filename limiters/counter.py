"""The decaying counter: the token-bucket core every venue budget is built from.

A counter has a *level* (counter units) that every request raises by its cost and that
decays at ``decay`` units per second down to zero.  A request of cost ``c`` fits at time
``t`` when ``level(t) + c <= capacity`` where ``capacity = max - margin``.

Decay granularity
-----------------
* continuous (``step == 0``):  ``level(t) = max(0, L - decay * (t - t0))``;
* stepped (``step > 0``): decay is released ``decay * step`` units at a time.  The state
  keeps an *anchor*: the last moment from which whole steps are counted.  Whatever the
  exchange's (unknown) phase, any half-open interval ``(a, a + k*step]`` holds exactly
  ``k`` of its ticks, so ``level(t) = max(0, L - decay * step * floor((t - a) / step))``
  never under-estimates an exchange that ticks every ``step`` seconds.  A charge keeps the
  anchor on the step grid, so no partial step is lost -- except when the level before the
  charge is below one step's release (``decay * step``): the exchange may then have spent
  part of its last tick on an empty counter, so the anchor moves to the charge's time and
  the charge starts decaying only a whole step later.

The stepped model is exact only when ``step`` is the exchange's real step.  When the step
is unknown, keep continuous decay and a ``margin`` of at least ``decay * step_max`` units:
a continuous model believes in at most ``decay * step`` units the exchange has not yet
released (see ``kraken-rate-limits.md`` section 3).

Time never runs backwards here: a ``now`` earlier than the state's time is treated as the
state's time, so a clock stepping back never lowers the level (a wait is still measured
from the caller's ``now``).

All functions are pure: they take ``now`` (seconds, any monotonic origin) and return new
immutable state.  :class:`~limiters.store.CounterStore` holds the state between calls.
"""

from __future__ import annotations

import math

import attrs

from limiters.errors import CostExceedsCapacity, InvalidAmount, check_amount, non_negative

__all__ = ["EPSILON", "ChargeResult", "CounterSpec", "CounterState"]

_HUGE = float("inf")

#: Tolerance, in counter units, for float rounding when comparing a level to the capacity.
#: Far below any real cost (the smallest Kraken cost is 0.5) and below what 1 ms of the
#: slowest decay releases (0.33 u/s * 0.001 s = 3.3e-4), so it never admits a real excess.
EPSILON = 1e-9



@attrs.frozen(slots=True)
class CounterState:
    """A counter's level (counter units) as of ``time`` and the step ``anchor`` (seconds).

    For continuous decay the anchor equals ``time``.  ``time`` is the latest moment the
    state has seen; decay is computed from the anchor.
    """

    level: float = attrs.field(default=0.0, validator=non_negative("level"))
    time: float = attrs.field(default=0.0)
    anchor: float = attrs.field(default=0.0)

    @classmethod
    def empty(cls, now: float) -> CounterState:
        """A counter at level 0, as of ``now``."""
        return cls(0.0, now, now)


@attrs.frozen(slots=True)
class ChargeResult:
    """Outcome of :meth:`CounterSpec.try_charge`.

    ``charged`` tells whether the cost was added; ``state`` is the state to keep (decayed to
    ``now`` either way); ``wait`` is 0 when charged, else the seconds from ``now`` until
    the cost fits (as :meth:`CounterSpec.time_until_fits`).
    """

    charged: bool
    state: CounterState
    wait: float


@attrs.frozen(slots=True)
class CounterSpec:
    """Limits of one decaying counter.

    ``maximum``: the exchange's max (counter units).  ``decay``: units released per second.
    ``step``: decay granularity in seconds (0 = continuous).  ``margin``: counter units kept
    free below the max, for what the model cannot see (decay granularity, arrival jitter,
    other clients).  ``capacity = maximum - margin`` is what the model lets a level reach.
    """

    maximum: float = attrs.field()
    decay: float = attrs.field()
    step: float = attrs.field(default=0.0)
    margin: float = attrs.field(default=0.0)

    def __attrs_post_init__(self) -> None:
        check_amount("maximum", self.maximum, positive=True)
        check_amount("decay", self.decay, positive=True)
        check_amount("step", self.step)
        check_amount("margin", self.margin)
        if self.margin >= self.maximum:
            raise InvalidAmount("margin", self.margin, f"below the maximum {self.maximum:g}")

    @property
    def capacity(self) -> float:
        """The highest level the model lets the counter reach: ``maximum - margin``."""
        return self.maximum - self.margin

    def with_margin(self, margin: float) -> CounterSpec:
        """The same counter with another safety margin (counter units)."""
        return attrs.evolve(self, margin=margin)

    # -- pure arithmetic ----------------------------------------------------------------

    def _time(self, state: CounterState, now: float) -> float:
        # clock readings are >= 0; NaN, infinities, negatives, bools, non-numbers are refused
        if now.__class__ is float and 0.0 <= now < _HUGE:  # the hot path: a finite float
            return now if now > state.time else state.time
        t = check_amount("now", now)
        return t if t > state.time else state.time

    def _decayed(self, state: CounterState, now: float) -> tuple[float, float]:
        """Level at ``now`` and the anchor to keep, for ``now >= state.time``."""
        elapsed = now - state.anchor
        if self.step <= 0.0:
            return max(0.0, state.level - self.decay * elapsed), now
        steps = math.floor(elapsed / self.step + EPSILON)
        if steps <= 0:
            return state.level, state.anchor
        level = max(0.0, state.level - self.decay * self.step * steps)
        return level, state.anchor + steps * self.step

    def advance(self, state: CounterState, now: float) -> CounterState:
        """The state decayed to ``now`` (no charge).  Backwards ``now`` changes nothing."""
        t = self._time(state, now)
        level, anchor = self._decayed(state, t)
        return CounterState(level, t, anchor)

    def level(self, state: CounterState, now: float) -> float:
        """Level at ``now`` in counter units (never below 0, never lowered by backwards time):
        :meth:`advance`'s level, without building its state."""
        return self._decayed(state, self._time(state, now))[0]

    def check_cost(self, cost: float) -> float:
        """Validate ``cost``: finite, >= 0 and <= capacity, else a typed error."""
        if cost.__class__ is float and 0.0 <= cost <= self.maximum - self.margin + EPSILON:
            return cost  # the hot path: a plain float that fits the capacity
        c = check_amount("cost", cost)
        if c > self.capacity + EPSILON:
            raise CostExceedsCapacity(c, self.capacity, self.maximum)
        return c

    def fits(self, state: CounterState, cost: float, now: float) -> bool:
        """Whether ``level(now) + cost <= capacity``."""
        c = self.check_cost(cost)
        return self.level(state, now) + c <= self.capacity + EPSILON

    def time_until_fits(self, state: CounterState, cost: float, now: float) -> float:
        """Seconds from ``now`` until ``cost`` fits (0 if it fits now).

        Continuous: ``(level + cost - capacity) / decay``.  Stepped: the first step edge
        ``anchor + k*step`` with ``level - decay*step*k + cost <= capacity``.  Exact: a
        charge at ``now + wait`` fits, and any earlier one (by more than float rounding) not.
        """
        c = self.check_cost(cost)
        s = self.advance(state, now)
        excess = s.level + c - self.capacity
        if excess <= EPSILON:
            return 0.0
        if self.step <= 0.0:
            at = s.time + excess / self.decay
        else:
            steps = math.ceil((excess - EPSILON) / (self.decay * self.step))
            at = max(s.time, s.anchor + steps * self.step)
        # Measured from ``now`` (which may be behind the state's time).  Float rounding:
        # the caller arms its timer at ``now + wait``, so that sum must be a moment that
        # fits -- read from ``state`` as given, and from ``s`` (their step anchors round
        # differently at large times); when rounding falls short (large times, fast
        # decay), nudge it up by ulps.
        wait = at - now
        for _ in range(16):
            t = now + wait
            if t > now and max(
                self._decayed(s, max(t, s.time))[0], self.level(state, t)
            ) + c <= self.capacity + EPSILON:
                break
            wait = math.nextafter(max(t, now), math.inf) - now
        return wait

    def charge(self, state: CounterState, cost: float, now: float) -> CounterState:
        """Add ``cost`` at ``now`` unconditionally (the exchange's view: it charges anyway).

        Use :meth:`try_charge` to charge only when the cost fits.
        """
        c = check_amount("cost", cost)
        return self._add(self.advance(state, now), c)

    def _add(self, s: CounterState, cost: float) -> CounterState:
        """``s`` (already decayed to its time) plus ``cost``; see "Decay granularity"."""
        anchor = s.anchor
        if self.step > 0.0 and s.level < self.decay * self.step:
            anchor = s.time
        return CounterState(s.level + cost, s.time, anchor)

    def try_charge(self, state: CounterState, cost: float, now: float) -> ChargeResult:
        """Charge ``cost`` at ``now`` if it fits; else leave the level and report the wait."""
        c = self.check_cost(cost)
        s = self.advance(state, now)
        if s.level + c <= self.capacity + EPSILON:
            return ChargeResult(True, self._add(s, c), 0.0)
        return ChargeResult(False, s, self.time_until_fits(state, c, now))

    def saturate(self, state: CounterState, now: float) -> CounterState:
        """The counter set to its maximum at ``now`` (after an unexpected rate-limit reply)."""
        s = self.advance(state, now)
        return CounterState(max(s.level, self.maximum), s.time, s.time)

    def resync(self, state: CounterState, level: float, now: float) -> CounterState:
        """Adopt a level observed on the exchange (e.g. the ``ratecounter`` feed) at ``now``."""
        lv = check_amount("level", level)
        t = self._time(state, now)
        return CounterState(lv, t, t)
