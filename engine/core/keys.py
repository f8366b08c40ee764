"""API keys on one account: nonces, wire slots and health, per key (the nonce rule).

Kraken refuses a private request whose nonce is not above the highest the key has seen
(``EAPI:Invalid nonce``) -- or, for a key with a declared *nonce window* ``N``, not within
``N`` below it (and never used).  Requests on different connections can reorder on the
network, so taking nonces in order is not enough.  The rule kept here:

* **no window** (``window == 0``): at most one private request of a key on the wire.  The
  next one is sent (and takes its nonce) only after the previous reply came back, so it
  cannot arrive first;
* **window N** (nonce units, milliseconds for the default wall-clock nonces): requests may
  overlap, up to ``limit`` at once, as long as every nonce on the wire is ``>= n - N``
  for the nonce ``n`` about to be sent: if ``n`` arrives first, each earlier one is still
  inside the window.  A request on the wire longer than ``N`` units blocks new sends until
  its reply comes.

Two seams, both async-capable so that a cluster-wide implementation (one key used by several
processes: a Redis nonce and a wire lease) can replace the in-process one later:

* :class:`NonceSource` -- ``await next_nonce(key)``: strictly increasing per key;
* :class:`WireSlot` -- ``await open()`` waits for a turn and returns the nonce to send (the
  request is on the wire from then on), ``close(nonce)`` ends it (reply received, or the
  exchange is over).  :class:`LocalWire` is the in-process slot.

A :class:`KeyPool` holds the :class:`PoolKey` s of one account.  :meth:`KeyPool.acquire`
opens the wire of the key the engine chose (:mod:`engine.core.apikeys`: the engine charges
that key's API counter), or, asked for none, picks the live key with the fewest requests
on the wire that has room (ties in turn).
Per key it keeps :class:`KeyHealth`: nonce refusals (three in a row lower a windowed key's
concurrency to 1, logged) and removal (a key the exchange refuses leaves the pool, logged;
the caller stops when none is left).  Trading counters and the open-orders cap are the
account's, shared by all keys: the pool knows nothing of them.  No secret is held here:
keys are known by a label (a prefix of the key, safe to log).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

import attrs
import structlog

from engine.aio import wait_turn

__all__ = [
    "NONCE_STRIKES",
    "KeyHealth",
    "KeyPool",
    "LocalWire",
    "NoKeysLeft",
    "NonceSource",
    "PoolKey",
    "WireSlot",
]

_log = structlog.get_logger("orderpace.keys")

#: Nonce refusals in a row after which a key's concurrency drops to 1.
NONCE_STRIKES = 3


class NoKeysLeft(RuntimeError):
    """Every key of the pool was refused by the exchange."""


@runtime_checkable
class NonceSource(Protocol):
    """Where nonces come from."""

    async def next_nonce(self, key: str) -> int:
        """A nonce for API key ``key``: above every nonce this source gave for ``key`` before."""
        ...


@runtime_checkable
class WireSlot(Protocol):
    """Who may put one key's private requests on the wire, with which nonce."""

    @property
    def concurrency(self) -> int:
        """Requests this slot lets on the wire at once now (>= 1)."""
        ...

    @property
    def on_wire(self) -> int:
        """Requests on the wire now (opened, not closed)."""
        ...

    async def open(self) -> int:
        """Wait for a turn; the nonce to send.  The request is on the wire until
        :meth:`close` (an exception here leaves nothing open)."""
        ...

    def close(self, nonce: int) -> Awaitable[None] | None:
        """The request sent with ``nonce`` is off the wire (reply in, or exchange over)."""
        ...

    def serialize(self) -> None:
        """From now on, one request on the wire at a time."""
        ...


class LocalWire:
    """A :class:`WireSlot` in this process for key ``key`` (see the module docstring).

    ``window``: the key's declared nonce window (nonce units; 0: none); ``limit``: requests
    on the wire at once with a window (without one it is 1).
    """

    __slots__ = ("_inflight", "_key", "_nonces", "_waiters", "limit", "window")

    def __init__(self, key: str, nonces: NonceSource, *, window: int = 0, limit: int = 8
                 ) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 0:
            raise ValueError(f"nonce window must be an integer >= 0, got {window!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
        self._key = key
        self._nonces = nonces
        self.window = window
        self.limit = limit if window > 0 else 1
        self._inflight: list[int] = []  # nonces on the wire
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def concurrency(self) -> int:
        return self.limit

    @property
    def on_wire(self) -> int:
        return len(self._inflight)

    def fits(self, nonce: int) -> bool:
        """Whether ``nonce`` may go now: room, and every nonce on the wire within the
        window of it (``m >= nonce - window``; no window: nothing on the wire)."""
        wire = self._inflight
        if len(wire) >= self.limit:
            return False
        return not wire or (self.window > 0 and min(wire) >= nonce - self.window)

    async def open(self) -> int:
        while True:
            if len(self._inflight) < self.limit:
                nonce = await self._nonces.next_nonce(self._key)
                if self.fits(nonce):  # checked after the await: another may have gone
                    self._inflight.append(nonce)
                    return nonce
                # a nonce taken and never sent is harmless: later ones are higher still
            await wait_turn(self._waiters)

    def close(self, nonce: int) -> None:
        try:
            self._inflight.remove(nonce)
        except ValueError:
            return
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def serialize(self) -> None:
        self.limit = 1

    def __repr__(self) -> str:
        return f"LocalWire(window={self.window}, {len(self._inflight)}/{self.limit})"


@attrs.define(slots=True)
class KeyHealth:
    """What the exchange said about one key: nonce refusals (``streak`` in a row,
    ``nonce_refusals`` in all), requests sent, and why it was removed (None: in the pool)."""

    requests: int = 0
    nonce_refusals: int = 0
    streak: int = 0
    removed: str | None = None


@attrs.define(slots=True, eq=False)
class PoolKey:
    """One key of the pool: ``label`` (safe to log), its index, wire slot and health."""

    label: str
    index: int
    wire: WireSlot
    health: KeyHealth = attrs.field(factory=KeyHealth)

    @property
    def live(self) -> bool:
        return self.health.removed is None


class KeyPool:
    """The keys of one account (see the module docstring).

    ``on_capacity(n)`` is called when the pool's total concurrency (requests it lets on
    the wire at once, over the live keys) changes: a key removed or serialized.
    """

    __slots__ = ("_busy", "_by_label", "_next", "_waiters", "keys", "on_capacity",
                 "on_removed")

    def __init__(self, keys: Sequence[PoolKey],
                 on_capacity: Callable[[int], None] | None = None) -> None:
        if not keys:
            raise ValueError("a key pool needs at least one key")
        self.keys = tuple(keys)
        self.on_capacity = on_capacity
        #: ``on_removed(label)``: a key left the pool (the engine's key ring follows it)
        self.on_removed: Callable[[str], object] | None = None
        self._by_label = {k.label: k for k in self.keys}
        self._busy: dict[int, int] = {k.index: 0 for k in self.keys}  # acquired, not released
        self._waiters: list[asyncio.Future[None]] = []
        self._next = 0  # where the next pick starts looking

    @property
    def live(self) -> tuple[PoolKey, ...]:
        return tuple(k for k in self.keys if k.live)

    @property
    def concurrency(self) -> int:
        """Requests the live keys let on the wire at once."""
        return sum(k.wire.concurrency for k in self.keys if k.live)

    def _pick(self) -> PoolKey | None:
        """The live key with room and the fewest requests on the wire; ties go round robin
        (so every key's API counter takes a share)."""
        best: PoolKey | None = None
        keys, n = self.keys, len(self.keys)
        for i in range(n):
            k = keys[(self._next + i) % n]
            busy = self._busy[k.index]
            if k.live and busy < k.wire.concurrency and (
                    best is None or busy < self._busy[best.index]):
                best = k
        if best is not None:
            self._next = (best.index + 1) % n
        return best

    def _chosen(self, label: str) -> PoolKey | None:
        """Key ``label`` if it has room now; None while it is full.  A key the pool does not
        know, or removed since it was chosen, falls back to :meth:`_pick`."""
        key = self._by_label.get(label)
        if key is None or not key.live:
            return self._pick()
        return key if self._busy[key.index] < key.wire.concurrency else None

    async def acquire(self, label: str | None = None) -> tuple[PoolKey, int]:
        """A live key with room, and the nonce to send with it (release with
        :meth:`release`).  ``label``: the key the engine chose (waits for its room; if it
        has left the pool meanwhile, another live key); None: the pool picks.  Raises
        :class:`NoKeysLeft` when every key was removed."""
        while True:
            if not any(k.live for k in self.keys):
                raise NoKeysLeft("every API key of the pool was refused by the exchange")
            key = self._pick() if label is None else self._chosen(label)
            if key is not None:
                self._busy[key.index] += 1
                try:
                    nonce = await key.wire.open()
                except BaseException:
                    self._busy[key.index] -= 1
                    self._wake()
                    raise
                key.health.requests += 1
                return key, nonce
            await wait_turn(self._waiters)

    async def release(self, key: PoolKey, nonce: int) -> None:
        """``key``'s request sent with ``nonce`` is off the wire."""
        try:
            done = key.wire.close(nonce)
            if done is not None:
                await done
        finally:
            self._busy[key.index] -= 1
            self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    # -- health ----------------------------------------------------------------------

    def accepted(self, key: PoolKey) -> None:
        """A reply with no nonce error: the streak ends."""
        key.health.streak = 0

    def nonce_refused(self, key: PoolKey) -> None:
        """``EAPI:Invalid nonce`` on ``key``: :data:`NONCE_STRIKES` in a row serialize it."""
        h = key.health
        h.nonce_refusals += 1
        h.streak += 1
        if h.streak >= NONCE_STRIKES and key.wire.concurrency > 1:
            before = self.concurrency
            key.wire.serialize()
            _log.warning("key_serialized", key=key.label, refusals=h.streak,
                         why="repeated EAPI:Invalid nonce: one request on the wire at a time")
            self._changed(before)

    def remove(self, key: PoolKey, error: str) -> int:
        """The exchange refused ``key`` itself (``error``): it leaves the pool.  Returns
        the number of keys left."""
        if not key.live:
            return len(self.live)
        before = self.concurrency
        key.health.removed = error
        left = len(self.live)
        _log.error("key_removed", key=key.label, error=error, keys_left=left)
        if self.on_removed is not None:
            self.on_removed(key.label)
        self._changed(before)
        self._wake()
        return left

    def _changed(self, before: int) -> None:
        now = self.concurrency
        if now != before and self.on_capacity is not None and now > 0:
            self.on_capacity(now)

    def report(self) -> list[dict[str, object]]:
        """Per key: label, requests, nonce refusals, concurrency, removal (JSON-ready)."""
        return [{"key": k.label, "requests": k.health.requests,
                 "nonce_refusals": k.health.nonce_refusals,
                 "concurrency": k.wire.concurrency, "removed": k.health.removed}
                for k in self.keys]

    def __repr__(self) -> str:
        return f"KeyPool(keys={len(self.keys)}, live={len(self.live)}, " \
               f"concurrency={self.concurrency})"
