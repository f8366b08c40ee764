"""``/v2``: Kraken's WebSocket v2 on the loopback server, against the same exchange as REST.

One connection is one ordered stream (Kraken: no nonces, requests in order).  Its messages
are read by the route, each stamped with its read time and its *arrival*: the read time plus
a random delay in ``[0, jitter]`` from the connection's own seeded stream
(:mod:`engine.exchange.server.connections`), never before the previous message's arrival
(:func:`arrival_after`) -- so a connection's messages keep their order while different
connections (and REST) may overtake each other.  At its arrival each message is handed to
the protocol (:class:`~engine.exchange.wsv2.WsDispatcher`, synchronous, on the event loop
like every REST request); its replies and every executions update go out through the
connection's FIFO (:class:`~engine.exchange.server.ws_session.WsSession`).

On connect the server sends Kraken's ``status`` message.  When the connection closes, its
subscription ends and its tokens live on only by their ttl; messages already read still
reach the exchange (they were on the wire) -- unless the server itself dropped it (a
fault): then nothing after the dropping message reaches the exchange.

Faults (:mod:`engine.exchange.server.faults`) apply per message, by method name or ``/v2``:
``drop-reply`` aborts the TCP connection (after the exchange processed the message, or
before with ``process=False``), ``hang`` never replies, ``refuse-token`` answers
``ESession:Invalid session``, ``unavailable`` ``EService:Unavailable``, ``malformed-json``
sends half the reply, ``http-5xx`` closes with code 1011.  Every message is recorded in the
server's ``served`` history like a REST request (``endpoint`` is the method name).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from starlette.websockets import WebSocket

from engine.exchange import replies as ke
from engine.exchange.server.config import Served, ServerConfig, ServerStats
from engine.exchange.server.connections import Connection, ConnectionTable
from engine.exchange.server.faults import Fault, FaultKind, FaultPlan
from engine.exchange.server.tally import Tally
from engine.exchange.server.ws_session import WsSession, dumps
from engine.exchange.wsv2 import (
    WsBadRequest,
    WsDispatcher,
    WsRequest,
    failure,
    parse_request,
    stamped,
    status,
)

__all__ = ["WsRoute", "arrival_after"]

_log = structlog.get_logger("orderpace.server")

#: Seconds shutdown waits for a connection's queued messages before dropping them.
_SHUTDOWN_WAIT = 1.0


def arrival_after(previous: float, read_at: float, delay: float) -> float:
    """A message's arrival: ``read_at + delay``, but never before the previous message of
    its connection (``previous``).  Seconds."""
    return max(read_at + delay, previous)


class _Inbound:
    """A message read off the connection: its text, read time and arrival (seconds)."""

    __slots__ = ("due", "read_at", "text")

    def __init__(self, text: str, read_at: float, due: float) -> None:
        self.text = text
        self.read_at = read_at
        self.due = due


class WsRoute:
    """The ``/v2`` endpoint (see the module docstring); :meth:`serve` is the Starlette
    WebSocket endpoint; :attr:`open` counts the WebSocket connections open now."""

    def __init__(
        self, dispatcher: WsDispatcher, config: ServerConfig, *, faults: FaultPlan,
        stats: ServerStats, table: ConnectionTable, now: Callable[[], float],
        served: deque[Served], pause: Callable[[float], Awaitable[None]],
        closing: asyncio.Event, tally: Tally | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.config = config
        self.faults = faults
        self.stats = stats
        self.table = table
        self.now = now
        self.served = served
        self.pause = pause
        self.closing = closing
        self.tally = tally if tally is not None else Tally({})
        self.open = 0

    async def serve(self, websocket: WebSocket) -> None:
        """Run one connection until either side closes it."""
        client = websocket.scope.get("client")
        conn = self.table.for_peer(tuple(client) if client else ("?", 0))
        await websocket.accept()
        self.open += 1
        session = WsSession(websocket, heartbeat=self.config.heartbeat,
                            subscribed=lambda: self.dispatcher.feed.subscribed(conn.index),
                            drop=lambda: self._drop(conn))
        session.start()
        session.send(status(conn.index))
        inbox: asyncio.Queue[_Inbound | None] = asyncio.Queue()
        worker = asyncio.create_task(self._process(conn, websocket, session, inbox))
        try:
            await self._read(conn, websocket, inbox)
        finally:
            inbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            self.dispatcher.close(conn.index)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.aclose(), _SHUTDOWN_WAIT)
            self.table.close(conn)
            self.open -= 1
            _log.debug("server.ws_closed", connection=conn.index, sent=session.sent)

    async def _read(self, conn: Connection, websocket: WebSocket,
                    inbox: asyncio.Queue[_Inbound | None]) -> None:
        jitter = self.config.jitter
        last = -1.0
        while not self.closing.is_set():
            try:
                message = await websocket.receive()
            except Exception:  # the transport is gone
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                text = data.decode("utf-8", "replace")
            read_at = self.now()
            delay = conn.rng.random() * jitter if jitter > 0 else 0.0
            last = arrival_after(last, read_at, delay)
            self.tally.in_flight += 1
            inbox.put_nowait(_Inbound(text, read_at, last))

    async def _process(self, conn: Connection, websocket: WebSocket, session: WsSession,
                       inbox: asyncio.Queue[_Inbound | None]) -> None:
        while True:
            item = await inbox.get()
            if item is None:
                return
            wait = item.due - self.now()
            try:
                if wait > 0:
                    await self.pause(wait)
                if not await self._one(conn, websocket, session, item):
                    break  # the server dropped the connection: what followed never arrives
            finally:
                self.tally.in_flight -= 1
        while await inbox.get() is not None:
            self.tally.in_flight -= 1

    async def _one(self, conn: Connection, websocket: WebSocket, session: WsSession,
                   item: _Inbound) -> bool:
        """Handle one message; False when a fault closed the connection."""
        epoch = self.dispatcher.exchange.epoch
        try:
            request = parse_request(item.text)
        except WsBadRequest as bad:
            self.stats.bad_requests += 1
            self._record("/v2", item.read_at, None, None, (bad.error,), None, conn)
            now = self.now()
            reply = failure(bad.method, bad.req_id, bad.error)
            session.send(stamped(reply, epoch + item.read_at, epoch + now))
            return True
        method = request.method
        self.stats.requests[method] += 1
        fault = self.faults.pick(method, ws=True)
        if fault is not None and not fault.processes:
            self._record(method, item.read_at, None, None, (), fault.kind, conn)
            return await self._strike(fault, request, None, conn, websocket, session, item)
        now = self.now()
        replies = self.dispatcher.handle(request, conn.index, session.send, now)
        key = self.dispatcher.key_of(request.params.get("token"), now)
        errors = tuple(r["error"] for r in replies if isinstance(r.get("error"), str))
        self._record(method, item.read_at, now, key, errors, fault.kind if fault else None,
                     conn)
        if fault is not None:
            return await self._strike(fault, request, replies, conn, websocket, session, item)
        out = epoch + self.now()
        for reply in replies:
            session.send(stamped(reply, epoch + item.read_at, out) if "method" in reply
                         else reply)
        return True

    def _record(self, endpoint: str, received: float, handled: float | None, key: str | None,
                errors: tuple[str, ...], fault: FaultKind | None, conn: Connection) -> None:
        shown = key[:4] + "..." if key else None
        self.tally.record(key, errors)
        self.served.append(Served(endpoint, received, handled, shown, errors, fault,
                                  conn.index))

    def _drop(self, conn: Connection) -> None:
        if conn.abort is not None:
            conn.abort()

    async def _strike(self, fault: Fault, request: WsRequest, replies: list[dict[str, Any]] | None,
                      conn: Connection, websocket: WebSocket, session: WsSession,
                      item: _Inbound) -> bool:
        """What a fault makes of ``request`` (``replies``: the exchange's, if processed);
        False when it closed the connection."""
        _log.info("server.fault", kind=fault.kind.value, endpoint=request.method,
                  processed=replies is not None, transport="ws")
        epoch = self.dispatcher.exchange.epoch
        kind = fault.kind
        if kind is FaultKind.HANG:
            return True
        if kind is FaultKind.DROP_REPLY and conn.abort is not None:
            await session.flush()  # earlier replies went out; this one never will
            session.closed = True
            self._drop(conn)
            return False
        if kind in (FaultKind.HTTP_5XX, FaultKind.DROP_REPLY):  # no socket to abort: close
            session.closed = True
            with contextlib.suppress(Exception):
                await websocket.close(1011)
            return False
        times = (epoch + item.read_at, epoch + self.now())
        if kind is FaultKind.MALFORMED_JSON:
            first = replies[0] if replies else failure(request.method, request.req_id,
                                                       ke.UNAVAILABLE)
            text = dumps(stamped(first, *times))
            session.send_text(text[: max(1, len(text) // 2)])
            return True
        error = ke.INVALID_SESSION if kind is FaultKind.REFUSE_TOKEN else ke.UNAVAILABLE
        session.send(stamped(self.dispatcher.refuse(request, error), *times))
        return True
