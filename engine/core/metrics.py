"""Counters the engine keeps about itself, and the snapshot strategies and the CLI read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import attrs

__all__ = ["Decision", "MetricsSnapshot", "PairStats"]


@attrs.frozen(slots=True)
class Decision:
    """One scheduling decision, kept when ``EngineSettings.trace`` is on.

    ``action`` is ``"send"``, ``"wait"`` (for ``wait`` seconds, until the budget allows it),
    ``"defer"`` (a non-urgent cancel stepping aside for ``wait`` seconds, until its order
    reaches a cheaper age bucket, whether or not the budget allows it now) or
    ``"blocked"`` (until an event: ``kind`` ``"inflight"``, a free request slot, or
    ``"open_orders"``, an order closing, with ``wait`` infinite; or ``"fence"``, for
    ``wait`` seconds after a batch cancel left); ``level`` the counter level
    (units) before the charge; ``cost`` the units charged or wanted.
    """

    time: float
    hid: int
    pair: str
    action: str
    kind: str
    cost: float
    level: float
    wait: float


@attrs.define(slots=True)
class PairStats:
    """Running totals for one pair (or for the API key, under ``"api"``)."""

    charged: float = 0.0  # units charged in all
    requests: int = 0
    first_request: float | None = None
    last_request: float | None = None
    peak_level: float = 0.0
    level_sum: float = 0.0  # sum of levels after each charge, for the mean

    def record(self, now: float, cost: float, level_after: float) -> None:
        self.charged += cost
        self.requests += 1
        if self.first_request is None:
            self.first_request = now
        self.last_request = now
        self.peak_level = max(self.peak_level, level_after)
        self.level_sum += level_after


@attrs.frozen(slots=True)
class MetricsSnapshot:
    """What the engine knows at ``time`` (engine clock seconds).

    Levels are in counter units, as the engine's model estimates them.
    """

    time: float
    trading_levels: Mapping[str, float]
    trading_max: float
    api_level: float
    api_max: float
    queue_depths: Mapping[str, int]
    queued: int
    inflight: int
    inflight_cap: int  # requests allowed on the wire now (lowered after EService:Throttled)
    open_orders: Mapping[str, int]
    outcomes: Mapping[str, int]
    requests: Mapping[str, int]
    errors: Mapping[str, int]
    rate_limit_errors: int
    pairs: Mapping[str, PairStats]
    locked: bool = False

    @staticmethod
    def counts(c: Counter[str]) -> dict[str, int]:
        return dict(sorted(c.items()))
