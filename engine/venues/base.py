"""The venue interface: one Kraken-shaped request in, one Kraken-shaped reply out.

Like an httpx transport, a venue hides *where* a request goes -- the in-process simulated
exchange, a Kraken-compatible HTTP server on loopback, or Kraken itself -- behind one
coroutine.  Requests use Kraken's endpoint names (``"AddOrder"``, ``"Time"``) and Kraken's
parameter names; replies are Kraken's envelope ``{"error": [...], "result": {...}}``.

Parameters are strings, except the batch endpoints' ``orders`` field, which is a list (of
order dicts for AddOrderBatch, of ids for CancelOrderBatch) -- the live venue sends those
requests as JSON, the others form-encoded.  A venue raises :class:`TransportError` when it
cannot tell what happened to a request (timeout, connection lost, malformed reply).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["Reply", "SendingVenue", "TransportError", "Venue"]

#: Kraken's reply envelope: ``{"error": [str, ...], "result": {...}}``.
Reply = dict[str, Any]


class TransportError(Exception):
    """A request's fate is unknown: it may or may not have reached the exchange.

    ``sent`` says whether any byte of the request left (False: certainly not executed).
    """

    def __init__(self, message: str, *, endpoint: str, sent: bool = True) -> None:
        super().__init__(f"{endpoint}: {message}")
        self.endpoint = endpoint
        self.sent = sent


@runtime_checkable
class Venue(Protocol):
    """Where requests go.  Implementations: simulated (in-process) and live Kraken REST."""

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        """Send ``endpoint`` with ``params``; return Kraken's reply envelope."""
        ...

    async def aclose(self) -> None:
        """Release connections; pending requests end with :class:`TransportError`."""
        ...


@runtime_checkable
class SendingVenue(Venue, Protocol):
    """A venue that starts a request without a task of its own (the simulated one)."""

    def send(self, endpoint: str, params: Mapping[str, Any],
             on_reply: Callable[[Reply], object] | None = None) -> asyncio.Future[Reply]:
        """Start ``endpoint`` now; a future for Kraken's reply (or :class:`TransportError`).
        ``on_reply(reply)`` is called as the reply comes back, before the future is done."""
        ...
