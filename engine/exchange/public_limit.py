"""Kraken's per-IP limit on public endpoints (kraken-rate-limits.md s.1, s.5c).

Public endpoints are limited per IP address, "roughly 1 request per second sustained";
over it the reply is ``EGeneral:Too many requests``.  The referee models that as one
decaying counter per client address: each public request adds 1 unit, the counter
releases ``rate`` units per second continuously, and a request is refused -- and not
counted -- when ``level + 1 > burst``.  So a client may send ``burst`` requests back to
back, then one every ``1 / rate`` seconds.

``rate`` defaults to Kraken's 1 per second; ``burst`` is undocumented by Kraken:
:data:`DEFAULT_PUBLIC_BURST` (15) is this simulator's choice.  ``rate = 0`` turns the limit
off.  Counters idle long enough to have emptied are forgotten, so memory stays bounded.
"""

from __future__ import annotations

from engine.exchange.counters import TickCounter

__all__ = ["DEFAULT_PUBLIC_BURST", "DEFAULT_PUBLIC_RATE", "PublicLimit"]

#: Public requests per second per IP, sustained (Kraken: "roughly 1").
DEFAULT_PUBLIC_RATE = 1.0
#: Public requests one IP may send back to back (undocumented by Kraken: chosen here).
DEFAULT_PUBLIC_BURST = 15

_PRUNE_EVERY = 1024


class PublicLimit:
    """Per-client counters of public requests (see the module docstring)."""

    __slots__ = ("_clients", "_seen", "burst", "rate")

    def __init__(self, rate: float = DEFAULT_PUBLIC_RATE,
                 burst: int = DEFAULT_PUBLIC_BURST) -> None:
        self.rate = rate
        self.burst = burst
        self._clients: dict[str, TickCounter] = {}
        self._seen = 0

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def admit(self, client: str, now: float) -> bool:
        """Count one public request of ``client`` at ``now``; False if it must be refused."""
        if not self.enabled:
            return True
        c = self._clients.get(client)
        if c is None:
            c = self._clients[client] = TickCounter(self.burst, self.rate, start=now)
        if not c.fits(1, now):
            return False
        c.charge(1, now)
        self._seen += 1
        if self._seen % _PRUNE_EVERY == 0:
            self._clients = {k: v for k, v in self._clients.items() if v.level(now) > 0}
        return True

    def level(self, client: str, now: float) -> float:
        """``client``'s counter at ``now`` (units)."""
        c = self._clients.get(client)
        return c.level(now) if c is not None else 0.0
