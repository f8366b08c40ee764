"""Which API key of the pool each request goes out on: decided by the engine, obeyed by the venue.

Kraken keeps one API counter **per key** (queries cost 1 or 2 units on it); the trading
counters and the open-orders cap are the **account's**.  An engine over a pool of keys
(``Engine(key_ids=[...])``) therefore models one API counter per key -- the budget's
``api:<key id>`` -- and a :class:`KeyRing` chooses, per request, the key it goes out on:

* a **query** (key lane) is charged on a live key whose wire slot has room, trying them
  fewest-requests-on-the-wire first, ties in turn (round robin).  A key whose counter
  refused is skipped until the moment its budget said the cost may fit (``ready_at``,
  seconds on the engine clock: counters only drain, so that moment is a lower bound);
* a **trading request** (no API charge) takes the live key with the fewest requests on the
  wire, ties in turn.

The choice travels one way, core to venue: the round trip runs with :data:`SEND_KEY` set
to the key id (a context variable of the round trip's task, so venue wrappers need not
pass it on), and a venue with a key pool sends on that key
(:meth:`engine.core.keys.KeyPool.acquire`).  A key the pool removes (the exchange refused
it) leaves the ring with its counter: it is never charged or chosen again.

Units: requests for wire counts; seconds (engine clock) for ``ready_at``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.core.keys import KeyPool

__all__ = ["SEND_KEY", "KeyRing"]

#: The key id the current round trip must go out on (None: the venue's choice).
SEND_KEY: ContextVar[str | None] = ContextVar("orderpace_send_key", default=None)


def _one(_key: str) -> int:
    return 1


class KeyRing:
    """The engine's view of its keys: live ones, requests on the wire per key, and when a
    refused key's API counter may have room again (see the module docstring).

    ``concurrency(key)``: requests the key's wire slot lets on the wire at once (default 1:
    no nonce window); :meth:`follow` binds it to a venue's key pool.
    """

    __slots__ = ("_busy", "_next", "_ready", "concurrency", "ids", "removed")

    def __init__(self, ids: Sequence[str],
                 concurrency: Callable[[str], int] | None = None) -> None:
        if not ids:
            raise ValueError("a key ring needs at least one key id")
        if len(set(ids)) != len(ids):
            raise ValueError("the same key id is given twice")
        self.ids: tuple[str, ...] = tuple(ids)
        self.concurrency: Callable[[str], int] = concurrency if concurrency is not None else _one
        self._busy: dict[str, int] = dict.fromkeys(self.ids, 0)  # sent, reply not yet in
        self._ready: dict[str, float] = dict.fromkeys(self.ids, -math.inf)
        self._next = 0  # where ties start (round robin)
        self.removed: set[str] = set()

    @property
    def live(self) -> tuple[str, ...]:
        return tuple(k for k in self.ids if k not in self.removed)

    def on_wire(self, key: str) -> int:
        return self._busy.get(key, 0)

    def has_room(self, key: str) -> bool:
        """Whether ``key`` is live and its wire slot has room."""
        return key not in self.removed and self._busy[key] < self.concurrency(key)

    def _order(self) -> list[str]:
        n = len(self.ids)
        turn = [self.ids[(self._next + i) % n] for i in range(n)]
        return sorted((k for k in turn if k not in self.removed), key=self._busy.__getitem__)

    def candidates(self, now: float) -> list[str]:
        """Live keys with wire room whose API counter may have room at ``now``: fewest on
        the wire first, ties in turn."""
        return [k for k in self._order() if self._ready[k] <= now and self.has_room(k)]

    def next_ready(self) -> float:
        """The earliest ``ready_at`` of a live key with wire room (inf: none has room, a
        reply must come first)."""
        return min((self._ready[k] for k in self.live if self.has_room(k)), default=math.inf)

    def refused(self, key: str, until: float) -> None:
        """``key``'s API counter refused a charge: skip it until ``until`` (seconds)."""
        if key in self._ready:
            self._ready[key] = until

    def pick(self) -> str:
        """The key for a request that charges no API counter: the live key with the
        fewest requests on the wire, ties in turn (the first id when none is live)."""
        order = self._order()
        return order[0] if order else self.ids[0]

    def sent(self, key: str) -> None:
        """A request goes out on ``key``: it is on the wire until :meth:`done`."""
        self._busy[key] += 1
        self._next = (self.ids.index(key) + 1) % len(self.ids)

    def done(self, key: str) -> None:
        """The request on ``key`` is over (reply, error, or cut short)."""
        if self._busy.get(key, 0) > 0:
            self._busy[key] -= 1

    def remove(self, key: str) -> bool:
        """``key`` leaves the ring (with its counter); whether it was in it."""
        if key not in self._busy or key in self.removed:
            return False
        self.removed.add(key)
        return True

    def follow(self, pool: KeyPool) -> None:
        """Take each key's wire concurrency from ``pool`` (ids are the pool's key labels),
        and leave out, with its counter, a key ``pool`` removes."""
        by_label = {k.label: k for k in pool.keys}
        if set(by_label) != set(self.ids):
            raise ValueError("the key ids must be the pool's key labels")
        self.concurrency = lambda key: by_label[key].wire.concurrency
        for k in pool.keys:
            if not k.live:
                self.remove(k.label)
        pool.on_removed = self.remove

    def __repr__(self) -> str:
        return f"KeyRing(keys={len(self.ids)}, live={len(self.live)})"
