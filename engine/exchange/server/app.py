"""The simulated exchange as one ASGI application (Starlette): Kraken's REST paths, headers,
bodies and envelopes.  Served by uvicorn (:mod:`engine.exchange.server.runner`), or driven
in process through ``httpx.ASGITransport`` where a socket adds nothing.

Routes
------
* ``GET`` or ``POST /0/public/<Endpoint>``: parameters from the query string and/or a form
  or JSON body; limited per client address (the exchange's per-IP public limit).
* ``POST /0/private/<Endpoint>``: a form or JSON body carrying ``nonce``; headers
  ``API-Key`` (a registered key, else ``EAPI:Invalid key``) and ``API-Sign`` (checked by
  :mod:`engine.exchange.server.signing`, else ``EAPI:Invalid signature``).  The exchange
  core then checks lockout, throttle, nonce, counters and the order itself.
* WebSocket ``/v2``: Kraken's WebSocket v2 (:mod:`engine.exchange.server.ws_route`), on the
  same exchange object and the same event loop: the same orders, counters and caps.
* Anything else: HTTP 404 with ``EGeneral:Unknown method`` in Kraken's envelope.

Every Kraken error is HTTP 200 with Kraken's envelope ``{"error": [...]}``.  Parameters are
decoded *before* authentication, within the bounds of :mod:`engine.exchange.server.forms`
(nesting, field count, body size :data:`MAX_BODY`): anything beyond is answered
``EGeneral:Invalid arguments`` (HTTP 413 for an oversized body), never a crash.

Arrival
-------
A request reaches the exchange at its *arrival*: when it was read, plus its connection's
seeded jitter, after the connection's previous request
(:mod:`engine.exchange.server.connections`).  The exchange handles requests one at a
time, synchronously, on the event loop: that single-threaded discipline is what keeps its
state consistent across connections (and, later, the WebSocket).

Faults
------
:attr:`ExchangeApp.faults` (a :class:`~engine.exchange.server.faults.FaultPlan`) injects
dropped replies, hangs, HTTP 5xx, malformed JSON and ``EService:Unavailable``, per endpoint
and per n-th request, before or after the exchange processes the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from collections.abc import Mapping
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from engine.exchange import replies as ke
from engine.exchange.exchange import SimulatedKraken
from engine.exchange.server.config import Served, ServerConfig, ServerStats
from engine.exchange.server.connections import Connection, ConnectionTable
from engine.exchange.server.faults import Fault, FaultKind, FaultPlan
from engine.exchange.server.forms import BadParams, decode_body, decode_query
from engine.exchange.server.signing import signature_matches
from engine.exchange.server.tally import Tally
from engine.exchange.server.ws_route import WsRoute
from engine.exchange.wsv2 import WsDispatcher

__all__ = ["MAX_BODY", "DroppedReply", "ExchangeApp"]

#: Largest request body accepted (bytes); Kraken's largest payloads are a few kB.
MAX_BODY = 1024 * 1024

_ENDPOINT = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
_HTML_5XX = b"<html><head><title>%d</title></head><body><h1>%d</h1>simulated fault</body></html>"
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
_SERVER_HEADER = {"server": "orderpace-simulated-kraken"}

_log = structlog.get_logger("orderpace.server")


class DroppedReply(ConnectionError):
    """A ``drop-reply`` or ``hang`` fault when the app runs without a socket to drop."""


def _json(status: int, payload: Mapping[str, Any]) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status, headers=_SERVER_HEADER, media_type="application/json")


class ExchangeApp:
    """The ASGI application over one :class:`SimulatedKraken` (see the module docstring).

    ``keys``: key -> base64 secret, shared with the server (more may be added while it
    runs); ``now``: the exchange's clock (seconds).  Call :meth:`close` to end pending
    waits (jitter, hangs) at shutdown.
    """

    def __init__(
        self, exchange: SimulatedKraken, config: ServerConfig, *, keys: dict[str, str],
        faults: FaultPlan, stats: ServerStats, table: ConnectionTable,
        now: Any, served_history: int = 100_000,
    ) -> None:
        self.exchange = exchange
        self.config = config
        self.keys = keys
        self.faults = faults
        self.stats = stats
        self.table = table
        self.now = now
        self.served: deque[Served] = deque(maxlen=served_history)
        self.tally = Tally(keys)
        self.closing = asyncio.Event()
        self.ws = WsRoute(
            WsDispatcher(exchange), config, faults=faults, stats=stats, table=table, now=now,
            served=self.served, pause=self.pause, closing=self.closing, tally=self.tally,
        )
        self.routes = [
            Route("/0/public/{endpoint}", self._public, methods=_METHODS),
            Route("/0/private/{endpoint}", self._private, methods=_METHODS),
            WebSocketRoute("/v2", self.ws.serve),
        ]
        self.asgi = Starlette(routes=self.routes, exception_handlers={
            404: self._not_found, 405: self._not_found,
        })

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.asgi(scope, receive, send)

    def close(self) -> None:
        """End every pending wait: jittered arrivals proceed, hangs drop their connection."""
        self.closing.set()

    async def pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the server closes meanwhile."""
        if not self.closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), seconds)

    # -- routes ----------------------------------------------------------------------------

    async def _not_found(self, _request: Request, _exc: Exception) -> Response:
        return _json(404, ke.refusal(ke.UNKNOWN_METHOD))

    async def _public(self, request: Request) -> Response:
        return await self._route(request, "public")

    async def _private(self, request: Request) -> Response:
        return await self._route(request, "private")

    def _connection(self, request: Request) -> Connection:
        client = request.scope.get("client")
        return self.table.for_peer(tuple(client) if client else ("?", 0))

    async def _route(self, request: Request, kind: str) -> Response:
        self.tally.in_flight += 1
        try:
            return await self._answer(request, kind)
        finally:
            self.tally.in_flight -= 1

    async def _answer(self, request: Request, kind: str) -> Response:
        endpoint = request.path_params["endpoint"]
        if not _ENDPOINT.match(endpoint):
            return _json(404, ke.refusal(ke.UNKNOWN_METHOD))
        conn = self._connection(request)
        try:
            body = await self._body(request)
        except ClientDisconnect:
            return Response(b"", 499)
        except BadParams:
            self.stats.bad_requests += 1
            return _json(413, ke.refusal(ke.INVALID_ARGUMENTS))
        received = self.now()
        api_key = request.headers.get("api-key", "")
        key_shown = api_key[:4] + "..." if kind == "private" else None
        signer = api_key.strip() if kind == "private" else None
        self.stats.requests[endpoint] += 1
        fault = self.faults.pick(endpoint)
        if fault is not None and not fault.processes:
            self.served.append(Served(endpoint, received, None, key_shown, (), fault.kind,
                                      conn.index))
            self.tally.record(signer, ())
            return await self._strike(fault, None, conn)
        handled_at, reply = await self._process(request, body, kind, endpoint, conn)
        errors = tuple(e for e in reply.get("error", ()) if isinstance(e, str))
        self.served.append(Served(endpoint, received, handled_at, key_shown, errors,
                                  fault.kind if fault else None, conn.index))
        self.tally.record(signer, errors)
        _log.debug("server.request", endpoint=endpoint, errors=list(errors),
                   connection=conn.index, fault=fault.kind.value if fault else None)
        if fault is not None:
            return await self._strike(fault, reply, conn)
        return _json(200, reply)

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            raise BadParams("request body too large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise BadParams("request body too large")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- faults ----------------------------------------------------------------------------

    async def _drop(self, conn: Connection) -> Response:
        if conn.abort is None:
            raise DroppedReply("simulated fault: the reply was dropped")
        conn.abort()
        await asyncio.sleep(0)  # let the transport report the loss: nothing is sent
        return Response(b"", 499)

    async def _strike(self, fault: Fault, reply: Mapping[str, Any] | None,
                      conn: Connection) -> Response:
        """The response a fault turns the request into."""
        _log.info("server.fault", kind=fault.kind.value, endpoint=fault.endpoint,
                  processed=reply is not None)
        if fault.kind is FaultKind.DROP_REPLY:
            return await self._drop(conn)
        if fault.kind is FaultKind.HANG:
            await self.pause(fault.hold)
            return await self._drop(conn)
        if fault.kind is FaultKind.HTTP_5XX:
            body = _HTML_5XX % (fault.status, fault.status)
            return Response(body, fault.status, media_type="text/html",
                            headers={**_SERVER_HEADER, "connection": "close"})
        if fault.kind is FaultKind.MALFORMED_JSON:
            text = json.dumps(reply if reply is not None else ke.envelope({}))
            return Response(text[: max(1, len(text) // 2)].encode(), 200,
                            headers=_SERVER_HEADER, media_type="application/json")
        if fault.kind is FaultKind.REFUSE_TOKEN:
            return _json(200, ke.refusal(ke.PERMISSION_DENIED))
        return _json(200, ke.refusal(ke.UNAVAILABLE))

    # -- requests --------------------------------------------------------------------------

    async def _process(
        self, request: Request, body: bytes, kind: str, endpoint: str, conn: Connection
    ) -> tuple[float | None, dict[str, Any]]:
        """Decode, authenticate, wait for the arrival, let the exchange handle it."""
        try:
            params = decode_query(request.url.query) if request.url.query else {}
            if request.method == "POST":
                media = request.headers.get("content-type", "").split(";")[0].strip().lower()
                params.update(decode_body(body, media))
        except BadParams:
            self.stats.bad_requests += 1
            return None, ke.refusal(ke.INVALID_ARGUMENTS)
        client = request.scope.get("client")
        address = str(client[0]) if client else "?"
        if kind == "public":
            async with conn.arrival(self.config.jitter, self.pause):
                now = self.now()
                return now, self.exchange.handle(endpoint, params, key=None, now=now,
                                                 client=address)
        if request.method != "POST":
            return None, ke.refusal(ke.INVALID_ARGUMENTS)
        key = request.headers.get("api-key", "").strip()
        refusal = self._authenticate(request, body, key, params)
        if refusal is not None:
            self.stats.auth_errors[refusal] += 1
            return None, ke.refusal(refusal)
        async with conn.arrival(self.config.jitter, self.pause):
            now = self.now()
            return now, self.exchange.handle(endpoint, params, key=key, now=now)

    def _authenticate(self, request: Request, body: bytes, key: str,
                      params: Mapping[str, Any]) -> str | None:
        """The error refusing a private request, or None when key and signature are good."""
        secret = self.keys.get(key) if key else None
        if secret is None:
            return ke.INVALID_KEY
        nonce = params.get("nonce")
        if isinstance(nonce, bool) or not isinstance(nonce, int | str) or not str(
            nonce).isdigit():
            return ke.INVALID_NONCE  # Kraken's answer to a body without a usable nonce
        signature = request.headers.get("api-sign", "")
        if not signature or not signature_matches(secret, request.url.path, str(nonce), body,
                                                  signature):
            return ke.INVALID_SIGNATURE
        return None
