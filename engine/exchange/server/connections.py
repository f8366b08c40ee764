"""Connections to the loopback server, each with its own ordered, jittered arrival stream.

A request's *arrival* at the exchange is the moment it was read plus a random delay in
``[0, jitter]`` drawn from its connection's own :class:`random.Random`, seeded by
``(seed, connection index)``: ``arrival_i = max(read_i + U_i, arrival_{i-1})`` within one
connection, so requests on one connection arrive in the order they were read (as on one
TCP stream: they can bunch, never overtake), while requests on different connections are
delayed independently and may overtake each other -- as on the internet, where an HTTP
client's pool spreads concurrent requests over several connections.  The exchange then
checks nonces in arrival order: a client that writes nonces in order but over several
connections can meet ``EAPI:Invalid nonce`` unless its key has a nonce window.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable

__all__ = ["Connection", "ConnectionTable"]


class Connection:
    """One client connection: its index, its jitter stream, the tail of its request chain
    and (on a real socket) its transport, to drop it."""

    __slots__ = ("abort", "index", "peer", "rng", "tail")

    def __init__(self, index: int, seed: int, peer: object,
                 abort: Callable[[], None] | None = None) -> None:
        self.index = index
        self.peer = peer
        self.rng = random.Random(f"jitter:{seed}:{index}")
        self.tail: asyncio.Future[None] | None = None
        self.abort = abort

    @contextlib.asynccontextmanager
    async def arrival(
        self, jitter: float, pause: Callable[[float], object]
    ) -> AsyncIterator[None]:
        """Wait for this request's arrival (its own delay, then the previous request of the
        connection), hold the connection's order for the body, release it after.

        ``pause(seconds)`` is the awaitable that waits (it returns early when the server
        closes)."""
        previous = self.tail
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.tail = done
        try:
            delay = self.rng.random() * jitter if jitter > 0 else 0.0
            if delay > 0:
                await pause(delay)  # type: ignore[misc]
            if previous is not None and not previous.done():
                await asyncio.wait({previous})  # never cancels ``previous`` itself
            yield
        finally:
            if not done.done():
                done.set_result(None)
            if self.tail is done:
                self.tail = None

    def __repr__(self) -> str:
        return f"Connection({self.index}, peer={self.peer!r})"


class ConnectionTable:
    """The server's connections, numbered in order of opening."""

    __slots__ = ("_by_peer", "opened", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.opened = 0
        self._by_peer: dict[object, Connection] = {}

    def open(self, peer: object, abort: Callable[[], None] | None = None) -> Connection:
        """A new connection from ``peer`` (a socket's remote address)."""
        conn = Connection(self.opened, self.seed, peer, abort)
        self.opened += 1
        self._by_peer[peer] = conn
        return conn

    def close(self, conn: Connection) -> None:
        if self._by_peer.get(conn.peer) is conn:
            del self._by_peer[conn.peer]

    def for_peer(self, peer: object) -> Connection:
        """The open connection from ``peer``; a new one if there is none (an app driven in
        process, without sockets, sees each client address as one connection)."""
        conn = self._by_peer.get(peer)
        return conn if conn is not None else self.open(peer)

    def abort_all(self) -> None:
        """Drop every open connection at once (server shutdown)."""
        for conn in list(self._by_peer.values()):
            if conn.abort is not None:
                conn.abort()

    def __len__(self) -> int:
        return len(self._by_peer)
