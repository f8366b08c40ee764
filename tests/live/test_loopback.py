"""KrakenRestVenue against a tiny HTTP/1.1 server on 127.0.0.1 (the real httpx transport).

These check what mock transports cannot: that httpcore's trace events release the send lock
once a body is written (replies overlap), that connections are kept alive, and how real
socket failures map to ``TransportError.sent``.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from engine.venues.base import TransportError
from engine.venues.kraken_rest.body import nonce_of_body
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.rest import KrakenRestVenue
from engine.venues.kraken_rest.signing import verify

from .support import LEAK_KEY, LEAK_SECRET

#: What the server does with one parsed request: return the JSON reply, or None to hang up.
Behaviour = Callable[["Received"], Awaitable[dict[str, Any] | None]]


class Received:
    """One request as the server read it off the socket."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    @property
    def nonce(self) -> int:
        return nonce_of_body(self.body, self.headers["content-type"])

    def signed_correctly(self) -> bool:
        return verify(LEAK_SECRET, self.path, self.nonce, self.body, self.headers["api-sign"])


class LoopbackServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.received: list[Received] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (line.split(":", 1) for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                received = Received(method, path, headers, body)
                self.received.append(received)
                reply = await self.behaviour(received)
                if reply is None:
                    return  # hang up without answering
                payload = json.dumps(reply).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Behaviour], Awaitable[LoopbackServer]]]:
    servers: list[LoopbackServer] = []

    async def start(behaviour: Behaviour) -> LoopbackServer:
        server = LoopbackServer(behaviour)
        server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.server is not None
        server.server.close()


def venue_for(url: str, **kwargs: Any) -> KrakenRestVenue:
    return KrakenRestVenue(Credentials(LEAK_KEY, LEAK_SECRET), base_url=url, **kwargs)


async def test_without_a_nonce_window_the_next_request_waits_for_the_reply(
    serve: Callable[[Behaviour], Awaitable[LoopbackServer]],
) -> None:
    on_wire = 0
    most = 0

    async def behaviour(received: Received) -> dict[str, Any]:
        nonlocal on_wire, most
        on_wire += 1
        most = max(most, on_wire)
        await asyncio.sleep(0.02)
        on_wire -= 1
        return {"error": [], "result": {"nonce": received.nonce}}

    server = await serve(behaviour)
    async with venue_for(server.url) as venue:
        await asyncio.gather(*(venue.request("AddOrder", {"pair": "XBTUSD"}) for _ in range(4)))
    nonces = [r.nonce for r in server.received]
    assert nonces == sorted(nonces) and len(set(nonces)) == 4
    assert most == 1


async def test_with_a_nonce_window_requests_overlap_on_the_wire(
    serve: Callable[[Behaviour], Awaitable[LoopbackServer]],
) -> None:
    # The server answers nothing until three requests have arrived: had the venue kept one
    # request on the wire, the second could never leave and this would time out.
    all_in = asyncio.Event()

    async def behaviour(received: Received) -> dict[str, Any]:
        if len(server.received) == 3:
            all_in.set()
        await all_in.wait()
        return {"error": [], "result": {"nonce": received.nonce}}

    server = await serve(behaviour)
    async with venue_for(server.url, nonce_window=60_000) as venue:
        replies = await asyncio.wait_for(
            asyncio.gather(*(venue.request("AddOrder", {"pair": "XBTUSD"}) for _ in range(3))),
            timeout=5.0,
        )
    nonces = [r.nonce for r in server.received]
    assert nonces == sorted(nonces) and len(set(nonces)) == 3
    assert sorted(r["result"]["nonce"] for r in replies) == nonces
    assert all(r.signed_correctly() for r in server.received)
    assert all(r.headers["api-key"] == LEAK_KEY for r in server.received)


async def test_keep_alive_reuses_one_connection(
    serve: Callable[[Behaviour], Awaitable[LoopbackServer]],
) -> None:
    async def behaviour(received: Received) -> dict[str, Any]:
        return {"error": [], "result": {}}

    server = await serve(behaviour)
    async with venue_for(server.url) as venue:
        for _ in range(5):
            await venue.request("Balance", {})
    assert server.connections == 1
    assert [r.path for r in server.received] == ["/0/private/Balance"] * 5


async def test_connection_refused_is_not_sent() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with venue_for(f"http://127.0.0.1:{port}") as venue:
        with pytest.raises(TransportError) as info:
            await venue.request("AddOrder", {})
    assert info.value.sent is False
    assert "ConnectError" in str(info.value)


async def test_hang_up_after_the_request_is_sent(
    serve: Callable[[Behaviour], Awaitable[LoopbackServer]],
) -> None:
    async def behaviour(received: Received) -> None:
        return None

    server = await serve(behaviour)
    async with venue_for(server.url) as venue:
        with pytest.raises(TransportError) as info:
            await venue.request("AddOrder", {})
    assert info.value.sent is True


async def test_read_timeout_is_sent(
    serve: Callable[[Behaviour], Awaitable[LoopbackServer]],
) -> None:
    async def behaviour(received: Received) -> None:
        await asyncio.sleep(5)
        return None

    server = await serve(behaviour)
    async with venue_for(server.url, timeout=httpx.Timeout(0.2)) as venue:
        with pytest.raises(TransportError, match="ReadTimeout") as info:
            await venue.request("CancelOrder", {"txid": "O1"})
    assert info.value.sent is True
