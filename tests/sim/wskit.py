"""Helpers for the in-process WebSocket v2 tests: a dispatcher with a token, terse calls."""

from __future__ import annotations

from typing import Any

from engine.exchange import SimulatedKraken
from engine.exchange.wsv2 import WsDispatcher, WsRequest

Message = dict[str, Any]


class WsKit:
    """One exchange, its WebSocket v2 dispatcher, a token, and every message each
    connection was sent (replies and feed messages, in order)."""

    def __init__(self, x: SimulatedKraken, *, now: float = 0.0) -> None:
        self.x = x
        self.d = WsDispatcher(x)
        reply = x.handle("GetWebSocketsToken", {}, key="sim", now=now)
        assert reply["error"] == [], reply
        self.token: str = reply["result"]["token"]
        self.sent: dict[int, list[Message]] = {}

    def sink(self, connection: int) -> Any:
        return self.sent.setdefault(connection, []).append

    def call(self, method: str, now: float, *, connection: int = 1, req_id: int | None = 1,
             token: str | None = None, **params: Any) -> list[Message]:
        """The replies to one request (feed messages go to :attr:`sent`)."""
        request = WsRequest(method, {**params, "token": token or self.token}, req_id)
        replies = self.d.handle(request, connection, self.sink(connection), now)
        self.sent.setdefault(connection, []).extend(replies)
        return replies

    def one(self, method: str, now: float, **params: Any) -> Message:
        """The single reply to a request."""
        replies = self.call(method, now, **params)
        assert len(replies) == 1, replies
        return replies[0]

    def updates(self, connection: int = 1) -> list[Message]:
        """The executions items ``connection`` was sent, in order."""
        return [item for m in self.sent.get(connection, [])
                if m.get("channel") == "executions" for item in m["data"]]


def result(reply: Message) -> Any:
    assert reply.get("success") is True, reply
    return reply["result"]


def error(reply: Message) -> str:
    assert reply.get("success") is False and "result" not in reply, reply
    text: str = reply["error"]
    return text
