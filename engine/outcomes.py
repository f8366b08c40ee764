"""Outcomes: how each intent ended, and the handle a strategy awaits.

Every intent ends in exactly one terminal outcome:

* ``accepted``  -- the exchange accepted it (``txid`` for orders, ``result`` as returned);
* ``rejected``  -- the exchange refused it (``error`` holds Kraken's reason), or the engine
  found it could not be carried out (its order was never placed);
* ``expired``   -- its deadline passed while it was still queued: nothing was sent;
* ``coalesced`` -- a later intent made it unnecessary (or folded it in): nothing was sent;
* ``failed``    -- the transport failed or the engine stopped; ``sent`` tells whether the
  request may have reached the exchange.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from engine.intents import Intent

__all__ = ["Handle", "Outcome", "Status"]


class Status(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    COALESCED = "coalesced"
    FAILED = "failed"


@attrs.frozen(slots=True)
class Outcome:
    """The terminal state of one intent.

    Times are on the engine's clock (seconds): ``queued_at`` when submitted, ``sent_at``
    when its (last) request left (None if never sent), ``done_at`` when resolved.
    """

    status: Status
    intent: Intent
    queued_at: float
    done_at: float
    sent_at: float | None = None
    txid: str | None = None
    error: str | None = None
    result: Mapping[str, Any] | None = None
    sent: bool = False
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.status is Status.ACCEPTED

    @property
    def wait(self) -> float | None:
        """Seconds the intent waited in the queue before its first request (None if unsent)."""
        return None if self.sent_at is None else self.sent_at - self.queued_at


class Handle(asyncio.Future[Outcome]):
    """What :meth:`Engine.submit` returns: an asyncio future of the intent's :class:`Outcome`.

    Await it (or pass it to ``asyncio.gather`` / ``wait``) for the outcome.  The engine
    resolves it exactly once; the outcome is never an exception.  Cancelling the handle
    only stops *your* wait: the intent itself stays queued -- to withdraw an order, submit
    a cancel for it.
    """

    __slots__ = ("id", "intent", "strategy")

    def __init__(
        self, hid: int, intent: Intent, strategy: str, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(loop=loop)
        self.id = hid
        self.intent = intent
        self.strategy = strategy

    def outcome(self) -> Outcome:
        """The outcome; raises :class:`asyncio.InvalidStateError` while pending."""
        return self.result()

    def __repr__(self) -> str:
        if self.done() and not self.cancelled():
            state = self.result().status.value
        else:
            state = "cancelled" if self.cancelled() else "pending"
        return f"<Handle #{self.id} {type(self.intent).__name__} {state}>"
