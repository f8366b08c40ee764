"""What the engine talks through, one interface (:class:`Venue`), one module per venue:
:mod:`engine.venues.simulated` (the in-process simulated exchange on a clock) and
:mod:`engine.venues.kraken_rest` (Kraken's REST API over httpx)."""

from engine.venues.base import Reply, TransportError, Venue

__all__ = ["Reply", "TransportError", "Venue"]
