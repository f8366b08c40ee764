"""WebSocket v2 requests answered against the exchange: the protocol without a transport.

:class:`WsDispatcher` takes one parsed request of one connection at its arrival ``now``
and returns the messages to send back, in order.  It is synchronous and knows nothing of
sockets, so the loopback server (:mod:`engine.exchange.server.ws_route`) and in-process
tests drive the very same code.

* ``ping`` needs no token and answers ``pong``.
* Every other method needs a ``token`` from ``GetWebSocketsToken`` that is valid at
  ``now`` (:mod:`engine.exchange.tokens`); otherwise ``ESession:Invalid session`` and
  nothing happens.  No nonce, no API counter: one connection is one ordered stream.
* Order methods are translated (:mod:`~engine.exchange.wsv2.translate`) onto the exchange's
  own order handlers (:meth:`SimulatedKraken.handle_ws`): the same trading counter,
  penalties, caps and error strings as REST.
* ``subscribe`` / ``unsubscribe`` the ``executions`` channel (:mod:`~engine.exchange.wsv2.
  feed`): the ack, then the snapshot.
* An unknown method answers ``EGeneral:Unknown method`` (this simulator's choice: Kraken
  does not document the string).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.exchange import replies as ke
from engine.exchange.exchange import SimulatedKraken
from engine.exchange.wsv2 import translate as tr
from engine.exchange.wsv2.feed import NOT_SUBSCRIBED, ExecutionsFeed, ExecutionsOptions, Sink
from engine.exchange.wsv2.messages import WsReject, WsRequest, failure, pong, success

__all__ = ["CHANNEL", "ORDER_METHODS", "WS_METHODS", "WsDispatcher"]

#: The one channel served (``ws-auth``'s private channel).
CHANNEL = "executions"

#: Order methods and the exchange endpoint each runs.
ORDER_METHODS: Mapping[str, str] = {
    "add_order": "AddOrder", "batch_add": "AddOrderBatch", "amend_order": "AmendOrder",
    "edit_order": "EditOrder", "cancel_order": "CancelOrder",
    "batch_cancel": "CancelOrderBatch", "cancel_all": "CancelAll",
    "cancel_all_orders_after": "CancelAllOrdersAfter",
}

#: Every method served.
WS_METHODS: frozenset[str] = frozenset({*ORDER_METHODS, "subscribe", "unsubscribe", "ping"})

_Replies = list[dict[str, Any]]


def _echo(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {f: entry[f] for f in ("cl_ord_id", "order_userref") if entry.get(f) is not None}


class WsDispatcher:
    """The WebSocket v2 protocol over one exchange (see the module docstring)."""

    def __init__(self, exchange: SimulatedKraken) -> None:
        self.exchange = exchange
        self.feed = ExecutionsFeed(exchange)
        self._handlers: dict[str, Callable[[WsRequest, int, Sink, float], _Replies]] = {
            "add_order": self._add, "batch_add": self._batch_add, "amend_order": self._amend,
            "edit_order": self._edit, "cancel_order": self._cancel,
            "batch_cancel": self._batch_cancel, "cancel_all": self._cancel_all,
            "cancel_all_orders_after": self._cancel_after, "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
        }

    def key_of(self, token: object, now: float) -> str | None:
        """The API key a token was issued to, if it is valid at ``now`` (changes nothing)."""
        tokens = self.exchange.ws_tokens
        return tokens.key_of(token) if tokens.valid(token, now) else None

    def handle(self, request: WsRequest, connection: int, sink: Sink, now: float) -> _Replies:
        """The messages answering ``request`` of ``connection`` arriving at ``now``."""
        method, req_id = request.method, request.req_id
        if method == "ping":
            return [pong(req_id)]
        handler = self._handlers.get(method)
        if handler is None:
            return [failure(method, req_id, ke.UNKNOWN_METHOD)]
        if self.exchange.ws_tokens.use(request.params.get("token"), connection, now) is None:
            return [self._refusal(request, ke.INVALID_SESSION)]
        try:
            return handler(request, connection, sink, now)
        except WsReject as r:
            return [self._refusal(request, r.error)]

    def refuse(self, request: WsRequest, error: str) -> dict[str, Any]:
        """The reply refusing ``request`` with ``error`` (for faults)."""
        return self._refusal(request, error)

    def close(self, connection: int) -> None:
        """``connection`` closed: its subscription ends, its tokens live on only by ttl."""
        self.feed.unsubscribe(connection)
        self.exchange.ws_tokens.release(connection)

    @staticmethod
    def _refusal(request: WsRequest, error: str) -> dict[str, Any]:
        if request.method in ("subscribe", "unsubscribe"):
            channel = request.params.get("channel")
            extra = {"channel": channel} if isinstance(channel, str) else {}
            return failure(request.method, request.req_id, error, **extra, status="error")
        return failure(request.method, request.req_id, error)

    # -- order methods ------------------------------------------------------------------

    def _run(self, endpoint: str, params: Mapping[str, Any], now: float) -> Any:
        """The exchange's result for ``params`` (a refusal raises, in v2's words)."""
        reply = self.exchange.handle_ws(endpoint, params, now=now)
        if reply["error"]:
            raise WsReject(tr.ws_error(reply["error"][0]))
        return reply["result"]

    def _add(self, r: WsRequest, _c: int, _s: Sink, now: float) -> _Replies:
        result = self._run("AddOrder", tr.order_params(r.params), now)
        out = {"order_id": result["txid"][0]} if "txid" in result else {}
        return [success(r.method, r.req_id, {**out, **_echo(r.params)})]

    def _batch_add(self, r: WsRequest, _c: int, _s: Sink, now: float) -> _Replies:
        params = tr.batch_add_params(r.params)
        result = self._run("AddOrderBatch", params, now)
        entries = r.params["orders"]
        placed = [
            {**({"order_id": o["txid"]} if "txid" in o else {}), **_echo(entry)}
            for o, entry in zip(result["orders"], entries, strict=True)
        ]
        return [success(r.method, r.req_id, placed)]

    def _amend(self, r: WsRequest, _c: int, _s: Sink, now: float) -> _Replies:
        params = tr.amend_params(r.params)
        self.exchange.advance(now)
        cid = params.get("cl_ord_id")
        order = self.exchange.engine.by_cl_ord_id.get(cid) if isinstance(cid, str) else None
        result = self._run("AmendOrder", params, now)
        out: dict[str, Any] = {"amend_id": result["amend_id"],
                               "order_id": order.txid if order is not None else params["txid"]}
        if isinstance(cid, str):
            out["cl_ord_id"] = cid
        return [success(r.method, r.req_id, out)]

    def _edit(self, r: WsRequest, _c: int, _s: Sink, now: float) -> _Replies:
        params = tr.edit_params(r.params)
        result = self._run("EditOrder", params, now)
        if "txid" not in result:  # validate: nothing placed
            return [success(r.method, r.req_id, {"original_order_id": params["txid"]})]
        return [success(r.method, r.req_id, {"order_id": result["txid"],
                                             "original_order_id": result["originaltxid"]})]

    def _cancel(self, r: WsRequest, _c: int, _s: Sink, now: float) -> _Replies:
        """One CancelOrder per identifier, in order; one reply per order cancelled (or one
        refusal per identifier)."""
        field, idents = tr.cancel_idents(r.params)
        x = self.exchange
        out: _Replies = []
        for ident in idents:
            x.advance(now)
            named = x.open_orders_named(ident)
            try:
                self._run("CancelOrder", {field: ident}, now)
            except WsReject as e:
                out.append(self._refusal(r, e.error))
                continue
            for txid, cid in named:
                result = {"order_id": txid, **({"cl_ord_id": cid} if cid is not None else {})}
                out.append(success(r.method, r.req_id, result))
        return out

    def _batch_cancel(self, r: WsRequest, _c: int, _s: Sink, now: float) -> _Replies:
        result = self._run("CancelOrderBatch", tr.batch_cancel_params(r.params), now)
        return [success(r.method, r.req_id, {"count": result["count"]})]

    def _cancel_all(self, r: WsRequest, _c: int, _s: Sink, now: float) -> _Replies:
        tr.check_fields(r.params, frozenset(), r.method)
        result = self._run("CancelAll", {}, now)
        return [success(r.method, r.req_id, {"count": result["count"]})]

    def _cancel_after(self, r: WsRequest, _c: int, _s: Sink, now: float) -> _Replies:
        result = self._run("CancelAllOrdersAfter", tr.cancel_after_params(r.params), now)
        return [success(r.method, r.req_id, result)]

    # -- channels -----------------------------------------------------------------------

    def _channel(self, r: WsRequest) -> None:
        channel = r.params.get("channel")
        if channel != CHANNEL:
            raise tr.invalid("channel")

    def _subscribe(self, r: WsRequest, connection: int, sink: Sink, now: float) -> _Replies:
        self._channel(r)
        options = ExecutionsOptions.parse(r.params)
        ack, snapshot = self.feed.subscribe(connection, options, sink, now)
        out = [success(r.method, r.req_id, ack)]
        return out + ([snapshot] if snapshot is not None else [])

    def _unsubscribe(self, r: WsRequest, connection: int, _s: Sink, _now: float) -> _Replies:
        self._channel(r)
        tr.check_fields(r.params, frozenset({"channel"}), r.method)
        if not self.feed.unsubscribe(connection):
            raise WsReject(NOT_SUBSCRIBED)
        return [success(r.method, r.req_id, {"channel": CHANNEL})]
