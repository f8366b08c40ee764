"""Fences around batch cancels, so that no request on the wire trades places with one.

A batch cancel (CancelOrderBatch, CancelAll) may take the exchange's counter past the max,
and cancels whatever reached the exchange before it.  A request sent just before it but
arriving just after it (arrival jitter, or two sends at one instant) would then be refused,
or an add arriving first would be cancelled and charged unforeseen.  So:

* a batch cancel leaves ``jitter + 1 us`` after the last trading request on its pairs
  (:meth:`Fences.earliest`);
* no trading request on those pairs (on any pair, after a CancelAll) leaves until
  ``jitter + 1 us`` after it (:meth:`Fences.raise_after`, :meth:`Fences.until`).

Times are seconds on the engine clock; ``jitter`` is the rate model's arrival jitter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["FENCE_EPSILON", "Fences"]

#: Seconds added to every fence, so that two sends never share one instant (their arrival
#: order would then be arbitrary).
FENCE_EPSILON = 1e-6

_INF = math.inf


class Fences:
    """When each pair last sent, and until when a batch cancel fences it."""

    __slots__ = ("_all", "_fence", "jitter", "last_send", "latest")

    def __init__(self, jitter: float) -> None:
        self.jitter = jitter
        self.last_send: dict[str, float] = {}  # pair -> when its last request left
        self._fence: dict[str, float] = {}  # pair -> no request before
        self._all = -_INF  # no trading request on any pair before (a CancelAll)
        self.latest = -_INF  # the latest fence of all: none holds at or after it

    def sent(self, pair: str, now: float) -> None:
        """A request on ``pair`` left at ``now``."""
        self.last_send[pair] = now

    def until(self, pair: str) -> float:
        """No request on ``pair`` may leave before this time (-inf: no fence)."""
        f = self._fence.get(pair, -_INF)
        return f if f > self._all else self._all

    def sent_pairs(self) -> set[str]:
        """Every pair that has sent (a CancelAll's pairs)."""
        return set(self.last_send)

    def earliest(self, pairs: Iterable[str]) -> float:
        """When a batch cancel touching ``pairs`` may leave."""
        last = max((self.last_send.get(p, -_INF) for p in pairs), default=-_INF)
        return last + self.jitter + FENCE_EPSILON

    def raise_after(self, pairs: Iterable[str] | None, now: float) -> None:
        """A batch cancel left at ``now``: fence ``pairs`` (None: every pair, a CancelAll,
        including pairs with nothing sent yet)."""
        fence = now + self.jitter + FENCE_EPSILON
        self.latest = max(self.latest, fence)
        if pairs is None:
            self._all = fence
        else:
            for p in pairs:
                self._fence[p] = fence
