"""Recording scheduling decisions: ``EngineSettings.trace`` keeps each
:class:`~engine.core.metrics.Decision` in a list, ``log_decisions`` emits a structlog debug
event per decision.  ``on`` is false when neither is wanted (the hot path checks it)."""

from __future__ import annotations

import math

import structlog

from engine.core.metrics import Decision

__all__ = ["Tracer"]

_log = structlog.get_logger("orderpace.engine")


class Tracer:
    """Keeps and/or logs decisions (see the module docstring).  Levels and costs in counter
    units, times and waits in seconds."""

    __slots__ = ("decisions", "keep", "log", "on")

    def __init__(self, *, keep: bool, log: bool) -> None:
        self.keep = keep
        self.log = log
        self.on = keep or log
        self.decisions: list[Decision] = []

    def charge(self, now: float, hid: int, pair: str, kind: str, cost: float, level: float,
               charged: bool, wait: float) -> None:
        """A budget answer: sent (``level`` after the charge) or must wait ``wait``."""
        if self.keep:
            self.decisions.append(Decision(now, hid, pair, "send" if charged else "wait", kind,
                                           cost, level - cost if charged else level, wait))
        if self.log:
            _log.debug("decision", pair=pair, kind=kind, cost=cost, level=level, wait=wait,
                       sent=charged, hid=hid)

    def defer(self, now: float, hid: int, pair: str, kind: str, delay: float) -> None:
        """A lazy cancel steps aside for ``delay``."""
        if self.keep:
            self.decisions.append(Decision(now, hid, pair, "defer", kind, 0.0, 0.0, delay))
        if self.log:
            _log.debug("decision", pair=pair, kind=kind, deferred=delay, hid=hid)

    def blocked(self, now: float, hid: int, pair: str, why: str, until: float = math.inf,
                ) -> None:
        """A head waits for an event (``inflight``, ``open_orders``) or a fence."""
        if self.keep:
            wait = until - now if math.isfinite(until) else math.inf
            self.decisions.append(Decision(now, hid, pair, "blocked", why, 0.0, 0.0, wait))
