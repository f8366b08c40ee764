"""Engine policy: reserves, caps, retries, tracing -- defaults safe against the live exchange."""

from __future__ import annotations

import math

import attrs

from engine.errors import InvalidIntent
from limiters import PENALTIES, Transaction

__all__ = ["EngineSettings"]


@attrs.frozen(slots=True)
class EngineSettings:
    """Engine policy.  Defaults are safe against the live exchange.

    ``cancel_reserve``: fraction of each pair's trading capacity only cancels may use (held
    only for orders that rest or may rest: ``min(reserve, 8 units * n)`` for ``n`` of them).
    ``min_cancel_reserve``: the reserve in counter units at least (default 8: the dearest
    single cancel, of an order younger than 5 s), so one cancel always goes at once even
    on the Starter tier where 10% of the budget is only 6 units.
    ``max_queue``: intents queued at once (all pairs); a full queue refuses new ones.
    ``max_inflight``: requests on the wire at once for the key (halved on each
    ``EService:Throttled``, down to 1, and regrown by one per run of that many accepted
    replies).
    ``retry_rate_limited``: retry once an intent refused for a rate limit (such a refusal
    executes nothing, so the retry cannot duplicate an order).
    ``exchange_deadline``: send Kraken's ``deadline`` with an add whose own deadline is 2 to
    60 s away, so the exchange drops it if it arrives too late.
    ``trace``: keep every scheduling :class:`~engine.core.metrics.Decision` in ``Engine.trace``.
    ``log_decisions``: emit a structlog ``debug`` event per decision (pair, level, cost,
    wait); off by default because it costs time on the hot path.
    ``shutdown_timeout``: seconds ``aclose`` waits for in-flight replies.
    ``lazy_cancel_patience``: a cancel submitted with ``urgent=False`` whose order reaches a
    cheaper age bucket within this many seconds steps aside until then (without holding
    up anything behind it) and goes at the cheaper penalty; 0 turns this off.
    ``nonce_window``: the Kraken nonce window declared on the API keys (nonce units:
    milliseconds for the default wall-clock nonces); 0 (default): none, so one private
    request per key on the wire (:mod:`engine.core.keys`).  With a window a key may have
    up to ``max_inflight`` on the wire, each nonce within the window of the newest.
    """

    cancel_reserve: float = attrs.field(default=0.10)
    min_cancel_reserve: float = float(PENALTIES[Transaction.CANCEL].at(0.0))
    max_queue: int = 100_000
    max_inflight: int = 8
    retry_rate_limited: bool = True
    exchange_deadline: bool = True
    trace: bool = False
    log_decisions: bool = False
    shutdown_timeout: float = 10.0
    lazy_cancel_patience: float = 2.0
    nonce_window: int = 0

    def __attrs_post_init__(self) -> None:
        if not 0.0 <= self.cancel_reserve < 0.9 or math.isnan(self.cancel_reserve):
            raise InvalidIntent("cancel_reserve", self.cancel_reserve, "a fraction in [0, 0.9)")
        if not 0.0 <= self.min_cancel_reserve < 1e6:
            raise InvalidIntent("min_cancel_reserve", self.min_cancel_reserve, "units >= 0")
        if self.max_queue < 1:
            raise InvalidIntent("max_queue", self.max_queue, ">= 1")
        if self.max_inflight < 1:
            raise InvalidIntent("max_inflight", self.max_inflight, ">= 1")
        if (isinstance(self.nonce_window, bool) or not isinstance(self.nonce_window, int)
                or not 0 <= self.nonce_window < 2**64):
            raise InvalidIntent("nonce_window", self.nonce_window, "a whole number >= 0")
