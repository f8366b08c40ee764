"""Kraken WebSocket v2 (``wss://ws-auth.kraken.com/v2``) as the simulated exchange speaks it,
independent of any transport.

* :class:`WsDispatcher` (:mod:`~engine.exchange.wsv2.dispatch`): one request of one
  connection in, the messages to send back out; tokens, order methods, subscriptions.
* :mod:`~engine.exchange.wsv2.translate`: v2 order requests onto the exchange's own order
  handlers (the same as REST's) and their results back.
* :class:`ExecutionsFeed` (:mod:`~engine.exchange.wsv2.feed`) and
  :mod:`~engine.exchange.wsv2.executions`: the ``executions`` channel, with snapshot,
  updates in the exchange's order and the ``ratecount``.
* :mod:`~engine.exchange.wsv2.messages`: requests read within bounds, replies built.

The loopback server carries it on ``/v2`` (:mod:`engine.exchange.server.ws_route`).
"""

from engine.exchange.wsv2.dispatch import CHANNEL, ORDER_METHODS, WS_METHODS, WsDispatcher
from engine.exchange.wsv2.executions import SNAPSHOT_TRADES, STATUS_ONLY, event_items
from engine.exchange.wsv2.feed import (
    ALREADY_SUBSCRIBED,
    NOT_SUBSCRIBED,
    ExecutionsFeed,
    ExecutionsOptions,
    Sink,
)
from engine.exchange.wsv2.messages import (
    HEARTBEAT,
    MAX_MESSAGE,
    WsBadRequest,
    WsReject,
    WsRequest,
    failure,
    parse_request,
    pong,
    stamped,
    status,
    success,
    unsupported_field,
)

__all__ = [
    "ALREADY_SUBSCRIBED",
    "CHANNEL",
    "HEARTBEAT",
    "MAX_MESSAGE",
    "NOT_SUBSCRIBED",
    "ORDER_METHODS",
    "SNAPSHOT_TRADES",
    "STATUS_ONLY",
    "WS_METHODS",
    "ExecutionsFeed",
    "ExecutionsOptions",
    "Sink",
    "WsBadRequest",
    "WsDispatcher",
    "WsReject",
    "WsRequest",
    "event_items",
    "failure",
    "parse_request",
    "pong",
    "stamped",
    "status",
    "success",
    "unsupported_field",
]
