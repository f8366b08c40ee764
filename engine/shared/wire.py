"""One private request of an API key on the wire, cluster-wide: a Redis lease.

:class:`RedisWire` is the key pool's :class:`~engine.core.keys.WireSlot` for a key used by
several processes without a nonce window.  :meth:`~RedisWire.open` takes the key's wire
lease and its next nonce in one step (:data:`~engine.shared.scripts.WIRE_OPEN`): only the
holder sends, so no request of another process can overtake it.  :meth:`~RedisWire.close`
drops the lease when the reply is in.  A process that dies with the lease loses it after
``lease`` seconds (the request timeout plus a margin).  While the lease is taken the
caller polls every :attr:`POLL` seconds (a few loopback round trips); when Redis does not
answer it fails unsent after ``patience`` seconds (0.5; see :mod:`engine.shared.nonces`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable

from engine.shared.budget import key_prefix
from engine.shared.link import Link, StoreUnavailable
from engine.shared.scripts import WIRE_CLOSE, WIRE_OPEN
from engine.venues.base import TransportError

__all__ = ["RedisWire"]


class RedisWire:
    """A cluster-wide :class:`~engine.core.keys.WireSlot` (see the module docstring);
    ``name`` is the key's name in Redis (a digest, never the key)."""

    __slots__ = (
        "_close",
        "_held",
        "_keys",
        "_last",
        "_link",
        "_local",
        "_open",
        "lease",
        "patience",
        "waits",
    )

    POLL = 0.001

    def __init__(self, link: Link, account: str, name: str, *, lease: float = 12.0,
                 patience: float = 0.5) -> None:
        self._link = link
        prefix = key_prefix(account)
        self._keys = (f"{prefix}wire:{name}", f"{prefix}nonce:{name}")
        self._open = link.script(WIRE_OPEN)
        self._close = link.script(WIRE_CLOSE)
        self._local = asyncio.Lock()  # one request of this process at a time too
        self._held: str | None = None  # the token of the request on the wire
        self._last = -1
        self.lease = lease
        self.patience = patience
        self.waits = 0  # polls that found the lease taken (by another process)

    @property
    def concurrency(self) -> int:
        return 1

    @property
    def on_wire(self) -> int:
        return 0 if self._held is None else 1

    async def open(self) -> int:
        await self._local.acquire()
        try:
            return await self._take()
        except BaseException:
            self._local.release()
            raise

    async def _take(self) -> int:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.patience
        token = uuid.uuid4().hex
        args = (token, str(round(self.lease * 1000)))
        while True:
            try:
                reply = int(await self._link.call(self._open, self._keys,
                                                  (*args, str(self._last))))
            except StoreUnavailable as e:
                if loop.time() >= give_up:
                    raise TransportError(f"no wire lease: {e}", endpoint="", sent=False
                                         ) from None
                await asyncio.sleep(0.1)
                continue
            if reply >= 0:
                self._held, self._last = token, max(self._last, reply)
                return reply
            self.waits += 1
            await asyncio.sleep(min(self.POLL, -reply / 1000.0))

    def close(self, nonce: int) -> Awaitable[None] | None:
        token, self._held = self._held, None
        if token is None:
            return None
        fut = self._link.call(self._close, self._keys[:1], (token,))

        async def closed() -> None:
            try:
                await fut
            except StoreUnavailable:
                pass  # the lease expires by itself
            finally:
                self._local.release()

        return closed()

    def serialize(self) -> None:
        """Already one at a time."""

    def __repr__(self) -> str:
        return f"RedisWire(held={self._held is not None}, lease={self.lease:g})"
