"""The referee's own view of a run: what it answered, what it charged, and when.

Everything is counted by the exchange as it happens, independently of the engine:

* ``errors``: every error string replied (``EService:Throttled:<ts>`` counted under the
  bare ``EService:Throttled`` so the counter stays small);
* ``requests``: requests received, by endpoint (every one, whatever the reply);
* ``penalty``: trading-counter units charged per pair (wsname), including fixed parts
  charged for refused transactions and CancelAll / dead-man charges;
* ``first_request`` / ``last_request``: clock seconds of the first and last order request
  concerning each pair (refused ones included).

Budget utilization of a pair (``kraken-rate-limits.md`` s.2, design.md command line) is
``penalty / (max + decay * (last_request - first_request))``: what was charged over the
most the rules allowed between the pair's first and last request.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["ExchangeStats"]


class ExchangeStats:
    """Mutable tallies kept by the exchange (read them; do not write)."""

    __slots__ = ("errors", "first_request", "last_request", "penalty", "requests")

    def __init__(self) -> None:
        self.errors: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.penalty: dict[str, float] = {}
        self.first_request: dict[str, float] = {}
        self.last_request: dict[str, float] = {}

    def touch(self, pair: str, now: float) -> None:
        """An order request concerning ``pair`` arrived at ``now``."""
        if pair not in self.first_request:
            self.first_request[pair] = now
        self.last_request[pair] = now

    def charged(self, pair: str, units: float) -> None:
        self.penalty[pair] = self.penalty.get(pair, 0.0) + units

    def allowed(self, pair: str, maximum: float, decay: float) -> float:
        """Most the rules let ``pair`` be charged: ``max + decay * (last - first)`` units."""
        first = self.first_request.get(pair)
        if first is None:
            return 0.0
        return maximum + decay * (self.last_request[pair] - first)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "errors": dict(self.errors),
            "requests": dict(self.requests),
            "penalty": dict(self.penalty),
            "first_request": dict(self.first_request),
            "last_request": dict(self.last_request),
        }

    def __repr__(self) -> str:
        return (
            f"ExchangeStats(requests={sum(self.requests.values())}, "
            f"errors={sum(self.errors.values())})"
        )
