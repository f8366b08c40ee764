"""The ``executions`` channel's data items, built from the exchange's events and records.

Each exchange event becomes one or two items (Kraken's ``exec_type``), every item naming
``order_id``, ``symbol`` (v2: ``BTC/USD``), ``side``, ``order_userref`` (0 when none),
``cl_ord_id`` (when set), ``order_status`` and ``timestamp`` (RFC 3339, microseconds):

==============================  ============================================================
event                           items
==============================  ============================================================
order placed                    ``pending_new`` (``order_qty``, ``order_type``,
                                ``limit_price``, ``time_in_force``, ``post_only``, ...),
                                then ``new``
order amended                   ``amended`` (``order_qty``, ``limit_price``,
                                ``amended: true``, ``reason: "User requested"``)
order filled (in full)          ``trade`` (``exec_id``, ``trade_id``, ``last_qty``,
                                ``last_price``, ``cost``, ``liquidity_ind`` ``m``/``t``,
                                ``fees``), then ``filled``
order cancelled                 ``canceled`` with ``reason`` (``User requested``,
                                ``Dead man switch``, ``Order replaced``, ``Unfilled IOC``)
GTD order expired               ``expired``
==============================  ============================================================

``cum_qty``, ``cum_cost`` and ``avg_price`` are the order's totals after the event (fills
here are whole, fees 0).  Numbers are JSON numbers (floats), as Kraken sends them.  The
subscription's snapshot lists open orders (``exec_type`` ``new``) and, with
``snap_trades``, the last :data:`SNAPSHOT_TRADES` fills.  ``restated`` never occurs: this
exchange never changes an order by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from engine.exchange.events import (
    AnyEvent,
    CancelReason,
    OrderAmended,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
)
from engine.exchange.markets import ExchangeMarket, ExchangeMarkets, asset_info
from engine.exchange.matching import REASONS, OwnTrade
from engine.exchange.orders import Order
from engine.exchange.times import rfc3339_micro

__all__ = ["SNAPSHOT_TRADES", "STATUS_ONLY", "event_items", "order_item", "snapshot_items",
           "trade_item"]

#: Fills a ``snap_trades`` snapshot carries (Kraken: "the last 50 order fills").
SNAPSHOT_TRADES = 50

#: ``exec_type`` values sent when the subscription asks ``order_status: false`` (Kraken:
#: "only open / close transitions": new, filled, canceled, expired), plus the fills.
STATUS_ONLY = frozenset({"new", "trade", "filled", "canceled", "expired"})

def _f(value: Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def _base(txid: str, market: ExchangeMarket, side: str, time: float, epoch: float,
          cl_ord_id: str | None, userref: int | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "order_id": txid, "symbol": market.ws_symbol, "side": side,
        "order_userref": userref if userref is not None else 0,
    }
    if cl_ord_id is not None:
        item["cl_ord_id"] = cl_ord_id
    item["timestamp"] = rfc3339_micro(epoch + time)
    return item


def _placed(e: OrderPlaced, m: ExchangeMarket, epoch: float) -> list[dict[str, Any]]:
    pending = _base(e.txid, m, e.side, e.time, epoch, e.cl_ord_id, e.userref)
    pending.update({
        "exec_type": "pending_new", "order_status": "pending_new", "order_type": e.ordertype,
        "order_qty": _f(e.volume), "cum_qty": 0.0, "cum_cost": 0.0,
        "time_in_force": e.timeinforce,
    })
    if e.price is not None:
        pending.update({"limit_price": _f(e.price), "limit_price_type": "static"})
    if e.post_only:
        pending["post_only"] = True
    if e.expire_at is not None:
        pending["expire_time"] = rfc3339_micro(epoch + e.expire_at)
    pending.update({"fee_usd_equiv": 0.0, "fee_ccy_pref": "fciq"})
    new = _base(e.txid, m, e.side, e.time, epoch, e.cl_ord_id, e.userref)
    new.update({"exec_type": "new", "order_status": "new", "order_qty": _f(e.volume),
                "cum_qty": 0.0})
    if e.price is not None:
        new["limit_price"] = _f(e.price)
    return [pending, new]


def _amended(e: OrderAmended, m: ExchangeMarket, epoch: float) -> dict[str, Any]:
    item = _base(e.txid, m, e.side, e.time, epoch, e.cl_ord_id, e.userref)
    item.update({"exec_type": "amended", "order_status": "new", "amended": True,
                 "reason": "User requested", "order_qty": _f(e.volume), "cum_qty": 0.0})
    if e.price is not None:
        item.update({"limit_price": _f(e.price), "limit_price_type": "static"})
    if e.post_only:
        item["post_only"] = True
    return item


def _filled(e: OrderFilled, m: ExchangeMarket, epoch: float) -> list[dict[str, Any]]:
    cost = _f(e.price * e.volume)
    trade = _base(e.txid, m, e.side, e.time, epoch, e.cl_ord_id, e.userref)
    trade.update({
        "exec_type": "trade", "order_status": "filled", "order_type": e.ordertype,
        "exec_id": e.exec_id, "trade_id": e.trade_id, "last_qty": _f(e.volume),
        "last_price": _f(e.price), "liquidity_ind": "m" if e.maker else "t", "cost": cost,
        "cum_qty": _f(e.volume), "cum_cost": cost, "avg_price": _f(e.price),
        "fee_usd_equiv": 0.0, "fees": [{"asset": asset_info(m.quote).altname, "qty": 0.0}],
    })
    filled = _base(e.txid, m, e.side, e.time, epoch, e.cl_ord_id, e.userref)
    filled.update({"exec_type": "filled", "order_status": "filled", "cum_qty": _f(e.volume),
                   "cum_cost": cost, "avg_price": _f(e.price), "fee_usd_equiv": 0.0})
    return [trade, filled]


def _cancelled(e: OrderCancelled, m: ExchangeMarket, epoch: float) -> dict[str, Any]:
    status = "expired" if e.reason is CancelReason.EXPIRED else "canceled"
    item = _base(e.txid, m, e.side, e.time, epoch, e.cl_ord_id, e.userref)
    text = REASONS[e.reason]
    item.update({"exec_type": status, "order_status": status, "cum_qty": 0.0,
                 "cum_cost": 0.0, "avg_price": 0.0, "fee_usd_equiv": 0.0,
                 "cancel_reason": text, "reason": text})
    return item


def event_items(event: AnyEvent, markets: ExchangeMarkets, epoch: float
                ) -> list[tuple[str, dict[str, Any]]]:
    """``(pair, item)`` for each executions item ``event`` makes (none for a price tick);
    ``pair`` is the exchange's pair name (for the ratecount)."""
    if isinstance(event, OrderPlaced):
        m = markets.get(event.pair)
        return [(m.name, item) for item in _placed(event, m, epoch)]
    if isinstance(event, OrderFilled):
        m = markets.get(event.pair)
        return [(m.name, item) for item in _filled(event, m, epoch)]
    if isinstance(event, OrderCancelled):
        m = markets.get(event.pair)
        return [(m.name, _cancelled(event, m, epoch))]
    if isinstance(event, OrderAmended):
        m = markets.get(event.pair)
        return [(m.name, _amended(event, m, epoch))]
    return []


def order_item(order: Order, epoch: float) -> dict[str, Any]:
    """An open order as the snapshot lists it (``timestamp``: its creation or last amend)."""
    m = order.market
    item = _base(order.txid, m, order.side, order.aged_at, epoch, order.cl_ord_id,
                 order.userref)
    item.update({
        "exec_type": "new", "order_status": "new", "order_type": order.ordertype,
        "order_qty": _f(order.volume), "cum_qty": _f(order.vol_exec), "cum_cost": 0.0,
        "avg_price": 0.0, "time_in_force": order.timeinforce,
    })
    if order.price is not None:
        item.update({"limit_price": _f(order.price), "limit_price_type": "static"})
    if "post" in order.oflags.split(","):
        item["post_only"] = True
    if order.expire_at is not None:
        item["expire_time"] = rfc3339_micro(epoch + order.expire_at)
    item["fee_usd_equiv"] = 0.0
    return item


def trade_item(trade: OwnTrade, epoch: float) -> dict[str, Any]:
    """One of the account's fills as the ``snap_trades`` snapshot lists it."""
    o = trade.order
    e = OrderFilled(o.txid, o.market.name, o.side, trade.price, trade.volume, trade.time,
                    o.cl_ord_id, o.userref, trade.maker, o.ordertype, trade.txid,
                    trade.trade_id)
    return _filled(e, o.market, epoch)[0]


def snapshot_items(open_orders: Iterable[Order], trades: Iterable[OwnTrade], epoch: float,
                   ) -> list[tuple[str, dict[str, Any]]]:
    """``(pair, item)`` for each open order and fill given, in that order."""
    out = [(o.market.name, order_item(o, epoch)) for o in open_orders]
    out += [(t.order.market.name, trade_item(t, epoch)) for t in trades]
    return out
