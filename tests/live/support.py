"""Shared helpers for the live-venue tests: test credentials and recording transports."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import httpx

#: Kraken's published test-vector secret (public, from kraken-rate-limits.md s.4).
VECTOR_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
#: A secret for leak tests: distinctive, so any appearance of it is a leak.
LEAK_SECRET = base64.b64encode(b"orderpace-leak-canary-" + bytes(range(42))).decode()
LEAK_KEY = "KeyPrefix" + "Z" * 47


def leaked(text: str) -> bool:
    """Whether ``text`` contains the leak-test secret (padded or not)."""
    return LEAK_SECRET in text or LEAK_SECRET.rstrip("=") in text


def ok(result: Any = None) -> httpx.Response:
    """A 200 reply with Kraken's envelope and no error."""
    return httpx.Response(200, json={"error": [], "result": {} if result is None else result})


class TracingTransport(httpx.AsyncBaseTransport):
    """A transport that behaves like httpcore on the wire: it reports trace events.

    It records each request when its body "hits the wire", reports
    ``send_request_body.complete``, then answers after ``latency(request)`` seconds, so
    replies overlap the way they do on a real connection pool.
    """

    def __init__(
        self,
        handler: Callable[[httpx.Request], httpx.Response],
        latency: Callable[[httpx.Request], float] = lambda _: 0.0,
    ) -> None:
        self.handler = handler
        self.latency = latency
        self.wire: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        trace = request.extensions.get("trace")
        if trace is not None:
            await trace("connection.connect_tcp.started", {})
            await trace("http11.send_request_headers.started", {"request": request})
        await asyncio.sleep(0)  # writing takes a turn of the loop
        await request.aread()
        self.wire.append(request)
        if trace is not None:
            await trace("http11.send_request_body.complete", {"return_value": None})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency(request))
            return self.handler(request)
        finally:
            self.in_flight -= 1


def nonce_of(request: httpx.Request) -> int:
    """The nonce in a recorded private request's body."""
    if request.headers["Content-Type"] == "application/json":
        return int(json.loads(request.content)["nonce"])
    return int(httpx.QueryParams(request.content.decode())["nonce"])
