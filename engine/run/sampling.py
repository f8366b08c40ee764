"""Counter levels and queue depths sampled at a fixed interval of clock time.

A :class:`Sampler` takes a :class:`Sample` when started, then every ``interval`` seconds on
the run's clock (a timer, so a backtest samples in simulated time at no cost) until paused
or stopped, and a last one when stopped.  It keeps the sum of every level for the means
(``mean(name) = sum of name's levels / number of samples``, 0 before any sample) and, with
``keep``, the whole series (for charts).  What is measured -- the exchange's levels in a
backtest, the engine's model in a live run -- is the ``take`` function's business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from engine.clock import Clock

__all__ = ["Sample", "Sampler"]


@attrs.frozen(slots=True)
class Sample:
    """Levels at ``time`` (seconds): the trading counter per pair and the API counter
    (units), and the engine's queue depth per pair (intents)."""

    time: float
    trading: Mapping[str, float]
    api: float
    queued: Mapping[str, int]


class Sampler:
    """Samples ``take(now)`` every ``interval`` clock seconds between :meth:`start` and
    :meth:`stop`; ``on_sample`` is called with each sample (progress bars, key checks)."""

    __slots__ = ("_on", "clock", "interval", "n", "on_sample", "series", "sums", "take")

    def __init__(
        self, clock: Clock, interval: float, take: Callable[[float], Sample], *,
        keep: bool = False, on_sample: Callable[[Sample], None] | None = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.clock = clock
        self.interval = interval
        self.take = take
        self.on_sample = on_sample
        self.series: list[Sample] | None = [] if keep else None
        self.sums: dict[str, float] = {}
        self.n = 0
        self._on = False

    def start(self) -> None:
        """Take the first sample now and the next ones every ``interval`` seconds."""
        self._on = True
        self._sample(final=False)

    def pause(self) -> None:
        """No more periodic samples (a backtest's drain is not part of its means)."""
        self._on = False

    def stop(self) -> None:
        """No more periodic samples; take the last one now."""
        self._on = False
        self._sample(final=True)

    def _sample(self, final: bool) -> None:
        now = self.clock.now()
        s = self.take(now)
        sums = self.sums
        for name, level in s.trading.items():
            sums[name] = sums.get(name, 0.0) + level
        sums["api"] = sums.get("api", 0.0) + s.api
        self.n += 1
        if self.series is not None:
            self.series.append(s)
        if self.on_sample is not None:
            self.on_sample(s)
        if not final:
            self.clock.call_at(now + self.interval, self._next)

    def _next(self) -> None:
        if self._on:
            self._sample(final=False)

    def mean(self, name: str) -> float:
        """Mean level of ``name`` (a pair, or ``"api"``) over the samples (units)."""
        return self.sums.get(name, 0.0) / self.n if self.n else 0.0
