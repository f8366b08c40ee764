"""Balances of the simulated account, and what each API key remembers between requests.

:class:`Account` holds balances per asset (Kraken asset codes, exact decimals) and the
part of each held by open orders: ``available = balance - reserved``.  A buy reserves
``volume * limit`` of the quote asset, a sell ``volume`` of the base asset.  Fees are not
modelled (the simulator charges none).

:class:`KeyState` is one API key: its secret (never in a repr), its API counter, its
nonce history, its lockout state and the requests it has in flight (for the concurrency
throttle).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from decimal import Decimal

from engine.exchange.counters import TickCounter
from engine.exchange.lockout import DEFAULT_LOCKOUT_AFTER, DEFAULT_LOCKOUT_SECONDS, Lockout

__all__ = ["DEFAULT_BALANCES", "Account", "KeyState", "NonceTracker"]

#: Generous starting balances: enough for every tier's open-order cap at realistic sizes.
DEFAULT_BALANCES: Mapping[str, str] = {
    "ZUSD": "1000000000",
    "XXBT": "100000",
    "XETH": "1000000",
    "SOL": "100000000",
}

_ZERO = Decimal(0)


class Account:
    """Balances and reservations per asset code (decimals, never negative)."""

    __slots__ = ("balances", "reserved")

    def __init__(self, balances: Mapping[str, Decimal | str | int] | None = None) -> None:
        src = DEFAULT_BALANCES if balances is None else balances
        self.balances: dict[str, Decimal] = {a: Decimal(str(v)) for a, v in src.items()}
        self.reserved: dict[str, Decimal] = {}

    def available(self, asset: str) -> Decimal:
        """Balance not held by open orders."""
        return self.balances.get(asset, _ZERO) - self.reserved.get(asset, _ZERO)

    def reserve(self, asset: str, amount: Decimal) -> None:
        self.reserved[asset] = self.reserved.get(asset, _ZERO) + amount

    def release(self, asset: str, amount: Decimal) -> None:
        self.reserved[asset] = self.reserved.get(asset, _ZERO) - amount

    def transfer(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` (negative: remove) to the balance of ``asset``."""
        self.balances[asset] = self.balances.get(asset, _ZERO) + amount

    def __repr__(self) -> str:
        return f"Account({len(self.balances)} assets)"


class NonceTracker:
    """Kraken's nonce rule for one key.

    A nonce is accepted when it is above the highest accepted so far or, with a
    ``window > 0``, at least ``highest - window`` and never accepted before.
    """

    __slots__ = ("_prune_at", "_recent", "highest", "window")

    def __init__(self, window: int = 0) -> None:
        self.window = window
        self.highest: int | None = None
        self._recent: set[int] = set()
        self._prune_at = 1024

    def acceptable(self, nonce: int) -> bool:
        """Whether ``nonce`` may be used now (changes nothing)."""
        high = self.highest
        if high is None or nonce > high:
            return True
        return self.window > 0 and nonce >= high - self.window and nonce not in self._recent

    def record(self, nonce: int) -> None:
        """Remember an accepted ``nonce``."""
        if self.highest is None or nonce > self.highest:
            self.highest = nonce
        if self.window > 0:
            self._recent.add(nonce)
            if len(self._recent) > self._prune_at:  # forget nonces below the window
                floor = self.highest - self.window
                self._recent = {n for n in self._recent if n >= floor}
                self._prune_at = max(1024, 2 * len(self._recent))

    def accept(self, nonce: int) -> bool:
        """Record ``nonce`` and return True if it is acceptable; else change nothing."""
        if not self.acceptable(nonce):
            return False
        self.record(nonce)
        return True


class KeyState:
    """One API key: secret, API counter (made on first use), nonces, lockout, requests in
    flight."""

    __slots__ = ("_secret", "api", "in_flight", "key", "lockout", "nonces")

    def __init__(self, key: str, secret: str | None, nonce_window: int, *,
                 lockout_after: int = DEFAULT_LOCKOUT_AFTER,
                 lockout_seconds: float = DEFAULT_LOCKOUT_SECONDS) -> None:
        self.key = key
        self._secret = secret
        self.api: TickCounter | None = None
        self.nonces = NonceTracker(nonce_window)
        self.lockout = Lockout(lockout_after, lockout_seconds)
        self.in_flight: list[float] = []  # heap of clock times when each request completes

    @property
    def secret(self) -> str | None:
        return self._secret

    def set_secret(self, secret: str | None) -> None:
        self._secret = secret

    def busy_until(self, now: float, max_concurrent: int) -> float | None:
        """With ``max_concurrent`` requests still in flight at ``now``: when one completes."""
        flight = self.in_flight
        while flight and flight[0] <= now:
            heapq.heappop(flight)
        return flight[0] if len(flight) >= max_concurrent else None

    def occupy(self, until: float) -> None:
        heapq.heappush(self.in_flight, until)

    def __repr__(self) -> str:
        return f"KeyState({self.key!r}, secret={'***' if self._secret else None})"
