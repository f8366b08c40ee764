"""The WebSocket venue: order entry over Kraken WebSocket v2, everything else over REST.

:class:`KrakenWsVenue` is an :class:`engine.venues.base.Venue`.  Order requests
(:data:`~kraken_ws.protocol.ORDER_METHODS`) go over one authenticated v2 connection,
translated by :mod:`~kraken_ws.protocol`; other endpoints (AssetPairs, Ticker, OpenOrders,
QueryOrders, ...) go to the REST venue it wraps.  No nonces: one connection carries the
requests in order.

Connection
----------
:meth:`start` gets a token with REST ``GetWebSocketsToken`` (API cost 1, paced by ``pace``
on the engine's API counter), connects to ``ws_url`` and subscribes to ``executions`` with
``snap_orders`` and ``ratecounter``; it is ready once the snapshot has been delivered.
Replies are matched to requests by ``req_id``. Every ``ping_interval`` seconds an
application ``ping`` must be answered within ``reply_timeout`` seconds, else the connection
is dropped. When the connection drops the venue reconnects with exponential backoff
(``backoff_initial`` doubling to ``backoff_max`` seconds), a fresh token each time, and
subscribes again; ``on_reconnect`` is called once it is back (the snapshot has then been
delivered).

Lost replies (never a blind resend)
-----------------------------------
A request whose reply does not come -- the connection dropped (the venue first waits up to
``reconnect_wait`` seconds for the new connection and its snapshot) or ``reply_timeout``
passed -- is settled from what the executions feed showed (:class:`~kraken_ws.memory.
FeedMemory`): an add whose ``cl_ord_id`` appeared was placed; a cancel whose order closed
is done.  Otherwise :class:`~engine.venues.base.TransportError` (``sent=True``): the
:class:`~engine.venues.kraken_rest.recovery.RecoveringVenue` above looks the order up by
``cl_ord_id``.  A request refused with ``ESession:Invalid session`` (the token) was not
executed: the venue reconnects with a fresh token and sends it once more.

Before an order request is written, ``on_wire(endpoint, None, None, req_id)`` is called if
set (the journal records the request there: v2 has no key and no nonce, only the session
token, never recorded, and ``req_id``); if it raises, nothing is sent (``sent=False``).

Requests on the wire
--------------------
``cost_of(endpoint, params)`` (units per pair, set by the live runner) is recorded for
each request until its reply or its loss, or until the feed shows its processing (an add's
``cl_ord_id`` appears; the order's ``amended`` or ``canceled`` for an amend, an edit or a
cancel -- a fill of the order does not count); :meth:`pending_cost` sums them for a pair,
so a ``ratecount`` the feed publishes can be raised by what it may not include yet.

The executions messages (snapshot and updates) go to ``listener`` after the venue's own
memory noted them.  Times are seconds (event-loop clock); no secret or token is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from engine.core.wirenote import WireNote, noted
from engine.venues.base import Reply, TransportError, Venue
from engine.venues.kraken_ws.memory import FeedMemory
from engine.venues.kraken_ws.protocol import ORDER_METHODS, Symbols, envelope, to_ws

__all__ = [
    "INVALID_SESSION",
    "Costing",
    "KrakenWsVenue",
    "TokenRefused",
    "WsSettings",
]

#: Kraken's refusal of a WebSocket token.
INVALID_SESSION = "ESession:Invalid session"

#: ``cost_of(endpoint, params)``: trading-counter units per pair a request will charge.
Costing = Callable[[str, Mapping[str, Any]], Mapping[str, float]]
#: ``await pace(endpoint, units)`` before a token request.
Pacer = Callable[[str, int], Awaitable[None]]

_log = structlog.get_logger("orderpace.live.ws")

_MAX_MESSAGE = 4 * 1024 * 1024

#: Methods that take ``validate: true`` (check only, place nothing) in a dry run.
_VALIDATE = frozenset({"add_order", "batch_add", "edit_order"})


class TokenRefused(Exception):
    """``GetWebSocketsToken`` was refused (``error``: Kraken's, e.g. a key without
    WebSocket permission)."""

    def __init__(self, error: str) -> None:
        super().__init__(f"GetWebSocketsToken refused: {error}")
        self.error = error


class _Lost(Exception):
    """The connection carrying a request dropped before its reply."""


@attrs.frozen(slots=True)
class WsSettings:
    """Timings of the WebSocket venue, in seconds (see the module docstring)."""

    reply_timeout: float = 10.0
    connect_timeout: float = 5.0
    ping_interval: float = 10.0
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    reconnect_wait: float = 10.0


@attrs.define(slots=True)
class _Pending:
    """A request without its reply.  ``refs``: the ids whose feed event (of an ``exec_type``
    in ``kinds``; None: any) shows the exchange processed it -- and charged it, so the
    ``ratecount`` of that event and later ones includes ``costs``."""

    future: asyncio.Future[dict[str, Any]]
    costs: Mapping[str, float]
    connection: int
    refs: set[str] = attrs.field(factory=set)
    kinds: frozenset[str] | None = None
    seen: bool = False


#: Per endpoint: the ``exec_type`` values that show it was processed (None: any event).
_SEEN_KINDS: Mapping[str, frozenset[str] | None] = {
    "AddOrder": None, "AddOrderBatch": None, "AmendOrder": frozenset({"amended"}),
    "EditOrder": frozenset({"canceled"}), "CancelOrder": frozenset({"canceled"}),
    "CancelOrderBatch": frozenset({"canceled"}),
}


def _refs(endpoint: str, params: Mapping[str, Any]) -> set[str]:
    """The order ids (cl_ord_id or txid) a request is about, for :class:`_Pending`."""
    if endpoint == "AddOrder":
        return {str(params["cl_ord_id"])} if "cl_ord_id" in params else set()
    if endpoint == "AddOrderBatch":
        return {str(o["cl_ord_id"]) for o in params["orders"] if "cl_ord_id" in o}
    if endpoint == "CancelOrderBatch":
        return {str(r) for r in params.get("orders", ())}
    if endpoint in _SEEN_KINDS:
        ref = params.get("txid", params.get("cl_ord_id"))
        return {str(ref)} if ref is not None else set()
    return set()


class KrakenWsVenue:
    """:class:`~engine.venues.base.Venue` over Kraken WebSocket v2 (module docstring)."""

    def __init__(self, rest: Venue, ws_url: str, *, symbols: Symbols | None = None,
                 settings: WsSettings | None = None, pace: Pacer | None = None,
                 cost_of: Costing | None = None, dry_run: bool = False) -> None:
        self._rest = rest
        self.dry_run = dry_run
        self.ws_url = ws_url
        self.symbols = symbols if symbols is not None else Symbols(())
        self.settings = settings if settings is not None else WsSettings()
        self.pace = pace
        self.cost_of = cost_of
        self.listener: Callable[[Mapping[str, Any]], None] | None = None
        self.on_reconnect: Callable[[], None] | None = None
        self.memory = FeedMemory()
        self.stats: Counter[str] = Counter()
        self._ws: ClientConnection | None = None
        self._token: str | None = None
        self._connection = 0
        self._ready = asyncio.Event()
        self._snapshot = asyncio.Event()
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._closed = False
        self.calls = 0  # request() calls under way (any endpoint)
        #: called with (endpoint, None, None, req_id) before an order request is written
        #: (v2: no key, no nonce); raising refuses it (:mod:`engine.core.wirenote`)
        self.on_wire: WireNote | None = None

    def __repr__(self) -> str:
        return (f"KrakenWsVenue(ws_url={self.ws_url!r}, connected={self.connected}, "
                f"pending={len(self._pending)})")

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and subscribe; then keep the connection up in the background.

        Raises :class:`TokenRefused`, :class:`~engine.venues.base.TransportError` (the token
        request failed), or :class:`OSError` / :class:`TimeoutError` / a ``websockets``
        error when the first connection cannot be made.
        """
        await self._connect()
        self._supervisor = asyncio.create_task(self._supervise())
        self._pinger = asyncio.create_task(self._ping_loop())

    async def aclose(self) -> None:
        """Close the connection and the REST venue; pending requests end with
        :class:`TransportError`."""
        if self._closed:
            return
        self._closed = True
        tasks = [t for t in (self._supervisor, self._pinger) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._ready.clear()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        self._drop_pending()
        await self._rest.aclose()

    async def _fresh_token(self) -> str:
        if self.pace is not None:
            await self.pace("GetWebSocketsToken", 1)
        reply = await self._rest.request("GetWebSocketsToken", {})
        self.stats["tokens"] += 1
        errors = reply.get("error")
        result = reply.get("result")
        if errors or not isinstance(result, Mapping) or not isinstance(result.get("token"), str):
            raise TokenRefused(str(errors[0]) if errors else "no token in the reply")
        token: str = result["token"]
        return token

    async def _connect(self) -> None:
        """Token, connection, executions subscription (ack and snapshot), ready."""
        token = await self._fresh_token()
        s = self.settings
        ws = await asyncio.wait_for(
            connect(self.ws_url, open_timeout=s.connect_timeout, ping_interval=None,
                    max_size=_MAX_MESSAGE, compression=None),
            s.connect_timeout)
        self._connection += 1
        self._ws, self._token = ws, token
        self._reader = asyncio.create_task(self._read(ws, self._connection))
        self._snapshot.clear()
        ack = await self._call(ws, "subscribe", {
            "channel": "executions", "snap_orders": True, "snap_trades": False,
            "order_status": True, "ratecounter": True, "token": token})
        if not ack.get("success"):
            error = str(ack.get("error") or "subscribe refused")
            with contextlib.suppress(Exception):
                await ws.close()
            if error == INVALID_SESSION:
                raise TokenRefused(error)
            raise TransportError(f"executions subscription refused: {error}",
                                 endpoint="subscribe", sent=True)
        result = ack.get("result")
        if isinstance(result, Mapping) and result.get("snapshot"):  # it follows the ack
            try:
                await asyncio.wait_for(self._snapshot.wait(), s.reply_timeout)
            except TimeoutError:
                _log.warning("ws.no_snapshot", connection=self._connection)
        self.stats["connects"] += 1
        self._ready.set()
        _log.info("ws.connected", url=self.ws_url, connection=self._connection)

    async def _call(self, ws: ClientConnection, method: str, params: Mapping[str, Any]
                    ) -> dict[str, Any]:
        """Send one request outside the order path and wait for its reply."""
        rid = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = _Pending(fut, {}, self._connection)
        try:
            await ws.send(json.dumps({"method": method, "params": dict(params), "req_id": rid}))
            return await asyncio.wait_for(fut, self.settings.reply_timeout)
        finally:
            self._pending.pop(rid, None)

    async def _supervise(self) -> None:
        """Wait for the connection to end; reconnect with backoff (module docstring)."""
        while not self._closed:
            reader = self._reader
            if reader is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(reader)
            if self._closed:
                return
            self._ready.clear()
            self._drop_pending()
            self.stats["disconnects"] += 1
            _log.warning("ws.disconnected", connection=self._connection)
            delay = self.settings.backoff_initial
            while not self._closed:
                try:
                    await self._connect()
                except (TokenRefused, TransportError, OSError, TimeoutError,
                        WebSocketException) as e:
                    _log.warning("ws.reconnect_failed", error=str(e)[:200], retry_in=delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2.0, self.settings.backoff_max)
                    continue
                self.stats["reconnects"] += 1
                if self.on_reconnect is not None:
                    self.on_reconnect()
                break

    async def _ping_loop(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.settings.ping_interval)
            ws = self._ws
            if ws is None or not self._ready.is_set():
                continue
            try:
                pong = await self._call(ws, "ping", {})
            except (TimeoutError, WebSocketException, OSError):
                pong = {}
            if pong.get("method") != "pong" and ws is self._ws:
                self.stats["ping_timeouts"] += 1
                _log.warning("ws.ping_timeout", connection=self._connection)
                await self._abort(ws)

    @staticmethod
    async def _abort(ws: ClientConnection) -> None:
        """Drop ``ws`` at once (its reader then ends and the supervisor reconnects)."""
        transport = ws.transport
        if transport is not None:
            transport.abort()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 0.5)

    def _drop_pending(self) -> None:
        """Requests of a connection that is gone: their replies will never come."""
        current = self._connection if self._ready.is_set() else None
        for rid, p in list(self._pending.items()):
            if p.connection != current:
                del self._pending[rid]
                if not p.future.done():
                    p.future.set_exception(_Lost())
                    p.future.exception()  # retrieved here: its caller may be gone

    # -- reading -----------------------------------------------------------------------

    async def _read(self, ws: ClientConnection, connection: int) -> None:
        try:
            async for raw in ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    _log.warning("ws.unreadable_message", connection=connection)
                    continue
                if isinstance(message, dict):
                    self._dispatch(message)
        except WebSocketException as e:
            _log.info("ws.closed", connection=connection, reason=str(e)[:200])
        except OSError as e:
            _log.info("ws.closed", connection=connection, reason=type(e).__name__)

    def _dispatch(self, message: dict[str, Any]) -> None:
        rid = message.get("req_id")
        if isinstance(rid, int) and "method" in message:
            p = self._pending.pop(rid, None)
            if p is not None and not p.future.done():
                p.future.set_result(message)
            return
        if message.get("channel") == "executions" and message.get("type") in (
                "snapshot", "update"):
            data = message.get("data")
            if isinstance(data, list):
                for item in data:
                    if isinstance(item, Mapping):
                        self.memory.note(item)
                        self._processed(item)
            if self.listener is not None:
                try:
                    self.listener(message)
                except Exception:  # a listener bug must not stop the reader
                    _log.exception("ws.listener_failed")
            if message.get("type") == "snapshot":
                self._snapshot.set()

    # -- requests ----------------------------------------------------------------------

    def _processed(self, item: Mapping[str, Any]) -> None:
        """Mark the requests whose processing ``item`` shows (see :class:`_Pending`)."""
        ids = {item.get("order_id"), item.get("cl_ord_id")}
        kind = item.get("exec_type")
        for p in self._pending.values():
            if p.refs and not p.seen and (p.kinds is None or kind in p.kinds) \
                    and not p.refs.isdisjoint(ids):
                p.refs.difference_update(ids)
                p.seen = not p.refs

    def pending_cost(self, pair: str) -> float:
        """Units charged here on ``pair`` for requests on the wire whose processing the feed
        has not shown yet (their reply has not come, no event of theirs has)."""
        return sum(p.costs.get(pair, 0.0) for p in self._pending.values() if not p.seen)

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        """Order endpoints over WebSocket v2, others over REST (module docstring)."""
        self.calls += 1
        try:
            return await self._request(endpoint, params)
        finally:
            self.calls -= 1

    async def _request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        if endpoint not in ORDER_METHODS or _single_batch_cancel(endpoint, params):
            return await self._rest.request(endpoint, params)
        if self._closed:
            raise TransportError("venue is closed", endpoint=endpoint, sent=False)
        method, ws_params = to_ws(endpoint, params, self.symbols)
        if self.dry_run and method in _VALIDATE:
            ws_params["validate"] = True
        costs = self.cost_of(endpoint, params) if self.cost_of is not None else {}
        for attempt in range(2):
            reply = await self._exchange(endpoint, method, ws_params, params, costs)
            if reply.get("error") == INVALID_SESSION and attempt == 0 and not self._closed:
                # the token was refused: nothing was executed; reconnect and send once more
                self.stats["token_refused"] += 1
                await self._renew()
                continue
            return envelope(endpoint, reply)
        raise AssertionError("unreachable")

    async def _renew(self) -> None:
        """Drop the connection so that the supervisor reconnects with a fresh token."""
        ws = self._ws
        if ws is not None and self._ready.is_set():
            self._ready.clear()
            await self._abort(ws)

    async def _wait_ready(self) -> bool:
        if self._ready.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), self.settings.reconnect_wait)
        return self._ready.is_set() and not self._closed

    async def _exchange(self, endpoint: str, method: str, ws_params: Mapping[str, Any],
                        params: Mapping[str, Any], costs: Mapping[str, float]
                        ) -> dict[str, Any]:
        """One request on the connection; its reply, or a reply settled from the feed."""
        if not await self._wait_ready():
            raise TransportError("no WebSocket connection", endpoint=endpoint, sent=False)
        ws, token = self._ws, self._token
        assert ws is not None
        rid = next(self._ids)
        await noted(self.on_wire, endpoint, None, None, rid)  # recorded, or not sent
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = _Pending(fut, costs, self._connection, _refs(endpoint, params),
                                      _SEEN_KINDS.get(endpoint))
        body = json.dumps({"method": method, "params": {**ws_params, "token": token},
                           "req_id": rid})
        try:
            await ws.send(body)
        except (WebSocketException, OSError):
            self._pending.pop(rid, None)
            raise TransportError("WebSocket closed before the send", endpoint=endpoint,
                                 sent=False) from None
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self.settings.reply_timeout)
        except _Lost:
            self.stats["lost.dropped"] += 1
            await self._wait_ready()  # the new connection's snapshot is then in memory
        except TimeoutError:
            self._pending.pop(rid, None)
            self.stats["lost.timeout"] += 1
        except asyncio.CancelledError:
            self._pending.pop(rid, None)
            raise
        settled = self._settle(endpoint, params)
        if settled is not None:
            self.stats["settled_from_feed"] += 1
            _log.info("ws.reply_settled_from_feed", endpoint=endpoint)
            return settled
        raise TransportError("no reply (connection lost or reply timeout)", endpoint=endpoint,
                             sent=True)

    def _settle(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """A v2-shaped reply rebuilt from the feed's memory, or None (still unknown)."""
        mem = self.memory
        if endpoint == "AddOrder":
            oid = mem.order_id(str(params.get("cl_ord_id", "")))
            if oid is None:
                return None
            return {"success": True, "result": {"order_id": oid}}
        if endpoint == "AddOrderBatch":
            oids = [mem.order_id(str(o.get("cl_ord_id", ""))) for o in params["orders"]]
            if any(o is None for o in oids):
                return None
            return {"success": True, "result": [{"order_id": o} for o in oids]}
        if endpoint == "CancelOrder":
            how = mem.closed(str(params.get("txid", "")))
            if how == "filled":  # what the cancel met: the order was no longer open
                return {"success": False, "error": "EOrder:Unknown order"}
            if how is not None:
                return {"success": True, "result": {}}
        return None


def _single_batch_cancel(endpoint: str, params: Mapping[str, Any]) -> bool:
    """A CancelOrderBatch of one order goes over REST: v2's ``batch_cancel`` takes 2 to 50
    ids, and a ``cancel_order`` in its place would be refused past the counter's max, where
    the batch the engine charged is accepted (``kraken-rate-limits.md``)."""
    if endpoint != "CancelOrderBatch":
        return False
    orders = params.get("orders")
    return isinstance(orders, list | tuple) and len(orders) == 1
