"""The Kraken WebSocket v2 venue: order entry over one authenticated connection, the
executions feed, everything else over the REST venue it wraps.

* :class:`KrakenWsVenue` -- :class:`engine.venues.base.Venue` over WebSocket v2.
* :class:`WsSettings` -- its timings; :class:`TokenRefused` -- ``GetWebSocketsToken`` refused.
* :mod:`~engine.venues.kraken_ws.protocol` -- REST requests as v2 methods, v2 replies as
  REST envelopes; :class:`Symbols` -- pair names both ways.
* :class:`FeedMemory` -- what the executions feed showed, to settle lost replies.
"""

from engine.venues.kraken_ws.memory import FeedMemory
from engine.venues.kraken_ws.protocol import ORDER_METHODS, Symbols, envelope, to_ws, v2_symbol
from engine.venues.kraken_ws.venue import (
    INVALID_SESSION,
    Costing,
    KrakenWsVenue,
    TokenRefused,
    WsSettings,
)

__all__ = [
    "INVALID_SESSION",
    "ORDER_METHODS",
    "Costing",
    "FeedMemory",
    "KrakenWsVenue",
    "Symbols",
    "TokenRefused",
    "WsSettings",
    "envelope",
    "to_ws",
    "v2_symbol",
]
