"""The simulated exchange's own decaying counter (deliberately not ``limiters.counter``).

The referee keeps its own arithmetic so that a bug in the engine's limiter cannot hide
itself by being shared.  A counter holds a ``level`` (units) as of ``time`` (clock
seconds) and releases ``decay`` units per second, never going below 0:

* continuous (``step == 0``): ``level(t) = max(0, L - decay * (t - time))``;
* stepped (``step > 0``): decay is released in ticks at the absolute times
  ``phase + k * step`` (k integer).  Each tick releases ``decay * step`` units, clamped at
  0, so with ``n`` ticks in the half-open interval ``(time, t]``
  ``level(t) = max(0, L - n * decay * step)``, where
  ``n = K(t) - K(time)`` and ``K(t) = floor((t - phase) / step)`` (a tick at exactly ``t``
  counts; :data:`TICK_ROUNDING` absorbs float error such as ``0.6 / 0.2 = 2.9999...``).

A request of ``cost`` units is refused exactly when ``level(now) + cost > maximum``, up to
:data:`TOLERANCE` for float rounding.  Time never runs backwards: an earlier ``now`` is
read as the counter's own time.
"""

from __future__ import annotations

import math

__all__ = ["TICK_ROUNDING", "TOLERANCE", "TickCounter"]

#: Float-rounding allowance (units) when comparing ``level + cost`` to the maximum.  Far
#: below any real cost (0.5) and below what 1 ms of the slowest decay releases (3.3e-4).
TOLERANCE = 1e-9

#: Allowance (in steps) when counting decay ticks, so a tick at exactly ``t`` is counted.
TICK_ROUNDING = 1e-9


class TickCounter:
    """One decaying counter: ``maximum`` units, ``decay`` units/s, ticks of ``step`` s.

    ``K(time)`` of the settled ``time`` is kept (``_k``): it changes only when the counter
    settles, so reading the level at ``now`` computes ``K(now)`` alone.
    """

    __slots__ = ("_k", "_level", "_release", "_time", "decay", "maximum", "peak", "phase",
                 "step")

    def __init__(
        self, maximum: float, decay: float, *, step: float = 0.0, phase: float = 0.0,
        start: float = 0.0,
    ) -> None:
        if not (maximum > 0 and decay > 0 and step >= 0) or math.isinf(maximum + decay + step):
            raise ValueError(f"bad counter: maximum={maximum} decay={decay} step={step}")
        self.maximum = float(maximum)
        self.decay = float(decay)
        self.step = float(step)
        self.phase = float(phase)
        self._release = self.decay * self.step  # units released by one decay tick
        self._level = 0.0
        self._time = float(start)
        self._k = self._ticks(self._time) if self.step else 0
        self.peak = 0.0

    def _ticks(self, t: float) -> int:
        """``K(t)``: index of the last decay tick at or before ``t``."""
        return math.floor((t - self.phase) / self.step + TICK_ROUNDING)

    def level(self, now: float) -> float:
        """Level (units) at ``now``; pure, changes nothing."""
        level = self._level
        if now <= self._time or level == 0.0:
            return level
        if self.step == 0.0:
            level -= self.decay * (now - self._time)
        else:
            ticks = math.floor((now - self.phase) / self.step + TICK_ROUNDING) - self._k
            if ticks <= 0:
                return level
            level -= self._release * ticks
        return level if level > 0.0 else 0.0

    def _settle(self, now: float) -> None:
        if now > self._time:
            self._level = self.level(now)
            self._time = now
            if self.step:
                self._k = math.floor((now - self.phase) / self.step + TICK_ROUNDING)

    def fits(self, cost: float, now: float) -> bool:
        """Whether ``level(now) + cost <= maximum`` (within :data:`TOLERANCE`)."""
        return self.level(now) + cost <= self.maximum + TOLERANCE

    def charge(self, cost: float, now: float) -> None:
        """Add ``cost`` units at ``now`` unconditionally (the level may pass the maximum)."""
        self._settle(now)
        self._level += cost
        if self._level > self.peak:
            self.peak = self._level

    def state(self) -> tuple[float, float]:
        """``(level, time)`` as last settled: for snapshots and tests."""
        return (self._level, self._time)

    def __repr__(self) -> str:
        return (
            f"TickCounter(level={self._level:g} at {self._time:g}, max={self.maximum:g}, "
            f"decay={self.decay:g}/s, step={self.step:g})"
        )
