"""Helpers for the WebSocket v2 tests: a signed REST caller (tokens, orders, OpenOrders as the
server-side check) and a small client over the ``websockets`` library that keeps every
message it reads."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from engine.exchange.server import ExchangeServer

from .support import signed

#: Nonces for the tests' REST calls (each server is fresh; one counter suits them all).
_NONCES = itertools.count(1)

Message = dict[str, Any]

#: Flat prices (one tick at 0) for the default pairs: nothing fills unless it crosses.
FLAT = {"XBT/USD": 60000.0, "ETH/USD": 3000.0, "SOL/USD": 150.0}


def flat(**moves: list[tuple[float, float]]) -> dict[str, list[tuple[float, float]]]:
    """Price paths: flat, except the pairs given (``XBT_USD=[(t, price), ...]``)."""
    paths = {pair: [(0.0, p)] for pair, p in FLAT.items()}
    paths.update({k.replace("_", "/"): v for k, v in moves.items()})
    return paths


async def rest(server: ExchangeServer, endpoint: str, **params: Any) -> Message:
    """A signed private REST call with the demo key; Kraken's envelope."""
    path, body, headers = signed(endpoint, params, next(_NONCES))
    async with httpx.AsyncClient(base_url=server.url) as client:
        reply = await client.post(path, content=body, headers=headers)
    result: Message = reply.json()
    return result


async def token(server: ExchangeServer) -> str:
    """A fresh WebSocket token from REST GetWebSocketsToken."""
    reply = await rest(server, "GetWebSocketsToken")
    assert reply["error"] == [], reply
    value: str = reply["result"]["token"]
    return value


async def open_orders(server: ExchangeServer) -> dict[str, Any]:
    """The account's open orders, asked over REST OpenOrders (the server-side check)."""
    reply = await rest(server, "OpenOrders")
    assert reply["error"] == [], reply
    orders: dict[str, Any] = reply["result"]["open"]
    return orders


class WsClient:
    """One WebSocket v2 connection: requests with the token, every message kept in
    :attr:`messages` (in arrival order)."""

    def __init__(self, ws: ClientConnection, token: str | None) -> None:
        self.ws = ws
        self.token = token
        self.messages: list[Message] = []
        self._req = itertools.count(1)
        self._taken: set[int] = set()

    @classmethod
    async def open(cls, server: ExchangeServer, token: str | None = None) -> WsClient:
        ws = await connect(server.ws_url, open_timeout=5, ping_interval=None)
        client = cls(ws, token)
        first = await client.next(lambda m: m.get("channel") == "status")
        assert first["data"][0]["system"] == "online"
        return client

    async def send(self, method: str, req_id: int | None = None, *, with_token: bool = True,
                   **params: Any) -> int:
        """Send a request; its ``req_id`` (a fresh one unless given)."""
        rid = next(self._req) if req_id is None else req_id
        body: Message = {"method": method, "req_id": rid}
        if with_token and self.token is not None:
            params = {**params, "token": self.token}
        if params:
            body["params"] = params
        await self.ws.send(json.dumps(body))
        return rid

    async def call(self, method: str, **params: Any) -> Message:
        """Send a request and wait for its (first) reply."""
        rid = await self.send(method, **params)
        return await self.reply(rid, method)

    async def reply(self, req_id: int, method: str | None = None, timeout: float = 5.0
                    ) -> Message:
        return await self.next(
            lambda m: m.get("req_id") == req_id and (method is None or m.get("method")
                                                      in (method, "pong")), timeout)

    async def _read(self, timeout: float) -> Message:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        message: Message = json.loads(raw)
        self.messages.append(message)
        return message

    async def next(self, match: Callable[[Message], bool], timeout: float = 5.0) -> Message:
        """The first message matching ``match`` not returned before (reading as needed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i, message in enumerate(self.messages):
                if i not in self._taken and match(message):
                    self._taken.add(i)
                    return message
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError("no matching message")
            await self._read(left)

    def updates(self) -> list[Message]:
        """The executions items received so far (update and snapshot data, in order)."""
        return [item for m in self.messages if m.get("channel") == "executions"
                for item in m["data"]]

    async def drain(self, seconds: float) -> None:
        """Read whatever arrives for ``seconds``."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                await self._read(left)
            except TimeoutError:
                return

    async def close(self) -> None:
        await self.ws.close()
