"""The ``executions`` channel: one feed over the exchange, fanned out to every subscription.

The feed is a *lifecycle* subscriber of the exchange (:meth:`SimulatedKraken.subscribe`), so
it hears every order state change of the account -- from any key, any connection, REST or
WebSocket, the market driver's fills and the dead-man switch's cancels -- synchronously, in
the exchange's order, and pushes each item to each subscription's ``sink`` at once: events
reach subscribers in exactly the exchange's order, and every event a request causes is
pushed before that request's reply.

Each update is one message ``{"channel": "executions", "type": "update", "data": [item],
"sequence": n}``; ``sequence`` counts the subscription's messages from 1 (its snapshot, if
any, is 1).  With ``ratecounter: true`` every item carries ``ratecount``: the account's
trading-counter level for the item's pair at the event, after the event's charge and the
decay steps released so far -- the exchange's own number (units, rounded to 1e-6); the
subscribe ack always carries ``maxratecount``, the tier's maximum.

The feed listens to the exchange only while it has subscriptions: without them the
exchange builds no lifecycle events at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from engine.exchange.events import AnyEvent
from engine.exchange.exchange import SimulatedKraken
from engine.exchange.wsv2.executions import (
    SNAPSHOT_TRADES,
    STATUS_ONLY,
    event_items,
    snapshot_items,
)
from engine.exchange.wsv2.messages import WsReject
from engine.exchange.wsv2.translate import check_fields, invalid

__all__ = ["ALREADY_SUBSCRIBED", "NOT_SUBSCRIBED", "ExecutionsFeed", "ExecutionsOptions", "Sink"]

#: The refusal of a second executions subscription on one connection.
ALREADY_SUBSCRIBED = "Already subscribed"
#: The refusal of an unsubscribe without a subscription.
NOT_SUBSCRIBED = "Subscription Not Found"

#: Where a subscription's messages go (a connection's outbound queue).
Sink = Callable[[dict[str, Any]], object]

_OPTIONS = ("snap_orders", "snap_trades", "order_status", "ratecounter")


@attrs.frozen(slots=True)
class ExecutionsOptions:
    """What an executions subscription asked for (Kraken's defaults)."""

    snap_orders: bool = True
    snap_trades: bool = False
    order_status: bool = True
    ratecounter: bool = False

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> ExecutionsOptions:
        """The options of a ``subscribe`` request's ``params`` (``channel`` and ``token``
        are read elsewhere); a non-boolean option is invalid."""
        check_fields(params, frozenset({"channel", *_OPTIONS, "snapshot"}), "subscribe")
        given: dict[str, bool] = {}
        for name in _OPTIONS:
            if name in params:
                value = params[name]
                if not isinstance(value, bool):
                    raise invalid(name)
                given[name] = value
        if "snapshot" in params and "snap_orders" not in params:  # its older name
            if not isinstance(params["snapshot"], bool):
                raise invalid("snapshot")
            given["snap_orders"] = params["snapshot"]
        return cls(**given)


class _Subscription:
    __slots__ = ("options", "sequence", "sink")

    def __init__(self, options: ExecutionsOptions, sink: Sink) -> None:
        self.options = options
        self.sink = sink
        self.sequence = 0

    def message(self, kind: str, data: list[dict[str, Any]]) -> dict[str, Any]:
        self.sequence += 1
        return {"channel": "executions", "type": kind, "data": data, "sequence": self.sequence}


class ExecutionsFeed:
    """Every connection's executions subscription over one exchange (module docstring)."""

    def __init__(self, exchange: SimulatedKraken) -> None:
        self._exchange = exchange
        self._subs: dict[int, _Subscription] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def __len__(self) -> int:
        return len(self._subs)

    def subscribed(self, connection: int) -> bool:
        return connection in self._subs

    def maxratecount(self) -> int | float:
        """The tier's trading-counter maximum (units)."""
        top = self._exchange.rules.trading_max
        return int(top) if float(top).is_integer() else top

    def subscribe(self, connection: int, options: ExecutionsOptions, sink: Sink, now: float
                  ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Subscribe ``connection``: the ack's ``result`` and the snapshot message (None
        without ``snap_orders`` and ``snap_trades``).  Send the ack, then the snapshot,
        before anything else happens: updates follow them."""
        if connection in self._subs:
            raise WsReject(ALREADY_SUBSCRIBED)
        x = self._exchange
        x.advance(now)
        sub = _Subscription(options, sink)
        self._subs[connection] = sub
        if self._unsubscribe is None:
            self._unsubscribe = x.subscribe(self._on_event, lifecycle=True)
        snapshot = options.snap_orders or options.snap_trades
        ack = {"channel": "executions", "maxratecount": self.maxratecount(),
               "snapshot": snapshot}
        if not snapshot:
            return ack, None
        engine = x.engine
        orders = list(engine.open.values()) if options.snap_orders else []
        trades = list(engine.trades.values())[-SNAPSHOT_TRADES:] if options.snap_trades else []
        items = snapshot_items(orders, trades, x.epoch)
        data = [self._with_rate(sub, pair, item, now) for pair, item in items]
        return ack, sub.message("snapshot", data)

    def unsubscribe(self, connection: int) -> bool:
        """End ``connection``'s subscription; whether it had one."""
        sub = self._subs.pop(connection, None)
        if not self._subs and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        return sub is not None

    def _with_rate(self, sub: _Subscription, pair: str, item: dict[str, Any], now: float
                   ) -> dict[str, Any]:
        if not sub.options.ratecounter:
            return item
        return {**item, "ratecount": round(self._exchange.trading_level(pair, now), 6)}

    def _on_event(self, event: AnyEvent) -> None:
        if not self._subs:
            return
        x = self._exchange
        items = event_items(event, x.markets, x.epoch)
        if not items:
            return
        levels: dict[str, float] = {}
        for sub in tuple(self._subs.values()):
            for pair, item in items:
                if not sub.options.order_status and item["exec_type"] not in STATUS_ONLY:
                    continue
                data = item
                if sub.options.ratecounter:
                    level = levels.get(pair)
                    if level is None:
                        level = levels[pair] = round(x.trading_level(pair, event.time), 6)
                    data = {**item, "ratecount": level}
                sub.sink(sub.message("update", [data]))
