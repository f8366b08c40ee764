"""Nonces shared by every process on an API key: a Redis-issued monotonic value.

:class:`RedisNonces` is a :class:`~engine.venues.kraken_rest.nonce.NonceSource`: each
nonce is one call of :data:`~engine.shared.scripts.NONCE` on
``orderpace:{account}:nonce:<key digest>``, so two processes never take the same nonce
and never go below one already taken, whatever their clocks say.  Milliseconds since 1970,
like the in-process source.  When Redis does not answer, the request fails unsent
(``TransportError(sent=False)``) after ``patience`` seconds (0.5): its budget was charged
when it was decided, so holding it until Redis returns would send it later than the charge
says -- the model would under-count the exchange's counter by ``decay x`` the wait.
Without a nonce window, one request of a key is on the wire at a time, cluster-wide
(:class:`~engine.shared.wire.RedisWire`, which takes the nonce with its lease).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from engine.shared.budget import key_prefix
from engine.shared.link import Link, StoreUnavailable
from engine.shared.scripts import NONCE
from engine.venues.base import TransportError

__all__ = ["RedisNonces"]


class RedisNonces:
    """Shared nonces (see the module docstring); ``name`` maps an API key to its name
    in Redis (a digest: the key itself never goes to Redis)."""

    __slots__ = ("_last", "_link", "_name", "_prefix", "_sha", "patience", "per_second")

    #: Seconds between two asks while Redis is away.
    RETRY = 0.1

    def __init__(self, link: Link, account: str, name: Callable[[str], str], *,
                 patience: float = 0.5) -> None:
        self.patience = patience  # seconds to wait for Redis before the request fails
        self._link = link
        self._prefix = key_prefix(account)
        self._sha = link.script(NONCE)
        self._name = name
        self.per_second = 1000
        self._last: dict[str, int] = {}  # the last nonce taken here, per key

    async def next_nonce(self, key: str) -> int:
        name = self._name(key)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.patience
        while True:
            try:
                reply = await self._link.call(self._sha, (f"{self._prefix}nonce:{name}",),
                                              (str(self._last.get(name, -1)),))
                break
            except StoreUnavailable as e:
                if loop.time() >= give_up:
                    raise TransportError(f"no nonce: {e}", endpoint="", sent=False) from None
                await asyncio.sleep(self.RETRY)
        nonce = int(reply)
        self._last[name] = max(nonce, self._last.get(name, -1))
        return nonce

    def __repr__(self) -> str:
        return f"RedisNonces(store={self._link.where})"
