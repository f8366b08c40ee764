"""Requests on the wire at once: the in-flight cap, with one slot kept for cancels.

The cap starts at ``maximum`` (``EngineSettings.max_inflight``).  Each
``EService:Throttled`` halves it (down to 1); every run of as many accepted replies as the
cap raises it by one again, back up to ``maximum`` (additive increase, multiplicative
decrease).  While the cap is above 1, one slot is kept for cancels: other requests may
fill ``shared = max(1, slots - 1)`` of them.

Key pools (nonce discipline, :mod:`engine.core.keys`): the venue lets at most the pool's
concurrency on the wire (one per key without a nonce window); a live run sizes ``maximum``
to it, and :meth:`InflightCap.limit` lowers it when a key is removed or serialized, so
requests wait here -- before they are charged -- not at the venue.
"""

from __future__ import annotations

import structlog

__all__ = ["InflightCap"]

_log = structlog.get_logger("orderpace.engine")


class InflightCap:
    """The in-flight cap and count (requests); see the module docstring."""

    __slots__ = ("count", "credit", "maximum", "shared", "slots")

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.slots = maximum  # requests allowed on the wire now
        self.shared = max(1, maximum - 1)  # ... of which requests other than cancels
        self.credit = 0  # accepted replies since the cap last changed
        self.count = 0  # requests on the wire (or holding a slot)

    def free(self, cancel: bool) -> bool:
        """Whether a request (a cancel when ``cancel``) may take a slot now."""
        return self.count < (self.slots if cancel else self.shared)

    def take(self) -> None:
        self.count += 1

    def release(self) -> None:
        self.count -= 1

    def throttled(self) -> None:
        """An ``EService:Throttled`` reply: halve the cap (down to 1)."""
        self._resize(max(1, self.slots // 2))

    def accepted(self) -> bool:
        """An accepted reply: True if it raised the cap (a run of ``slots`` of them)."""
        if self.slots >= self.maximum:
            return False
        self.credit += 1
        if self.credit >= self.slots:
            self._resize(self.slots + 1)
            return True
        return False

    def limit(self, maximum: int) -> None:
        """The venue lets at most ``maximum`` (>= 1) requests on the wire now (a key pool's
        concurrency: keys removed or serialized): the cap's ceiling follows it."""
        self.maximum = max(1, maximum)
        self._resize(min(self.slots, self.maximum))

    def _resize(self, slots: int) -> None:
        if slots != self.slots:
            _log.info("inflight_cap", slots=slots, was=self.slots)
        self.slots = slots
        self.shared = max(1, slots - 1)
        self.credit = 0

    def __repr__(self) -> str:
        return f"InflightCap({self.count}/{self.slots}, max={self.maximum})"
