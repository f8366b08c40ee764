"""Nonces shared by every process on an API key: a Redis-issued monotonic value.

:class:`RedisNonces` is a :class:`~engine.venues.kraken_rest.nonce.NonceSource`: each
nonce is one call of :data:`~engine.shared.scripts.NONCE` on
``orderpace:{account}:nonce:<key digest>``, so two processes never take the same nonce
and never go below one already taken, whatever their clocks say.  Milliseconds since 1970,
like the in-process source.  Requests of several processes can still *arrive* out of
order (one request on the wire per key, cluster-wide, is a lease on the key pool); a
Kraken nonce window absorbs that meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.shared.budget import key_prefix
from engine.shared.link import Link
from engine.shared.scripts import NONCE

__all__ = ["RedisNonces"]


class RedisNonces:
    """Shared nonces (see the module docstring); ``name`` maps an API key to its name
    in Redis (a digest: the key itself never goes to Redis)."""

    __slots__ = ("_last", "_link", "_name", "_prefix", "_sha", "per_second")

    def __init__(self, link: Link, account: str, name: Callable[[str], str]) -> None:
        self._link = link
        self._prefix = key_prefix(account)
        self._sha = link.script(NONCE)
        self._name = name
        self.per_second = 1000
        self._last: dict[str, int] = {}  # the last nonce taken here, per key

    async def next_nonce(self, key: str) -> int:
        name = self._name(key)
        reply = await self._link.call(self._sha, (f"{self._prefix}nonce:{name}",),
                                      (str(self._last.get(name, -1)),))
        nonce = int(reply)
        self._last[name] = max(nonce, self._last.get(name, -1))
        return nonce

    def __repr__(self) -> str:
        return f"RedisNonces(store={self._link.where})"
