"""The order endpoints of the simulated exchange: AddOrder, AddOrderBatch, AmendOrder,
EditOrder, CancelOrder, CancelOrderBatch, CancelAll, CancelAllOrdersAfter.

Each function takes the :class:`~engine.exchange.matching.MatchingEngine`, the request
``params`` and the arrival ``now`` (clock seconds) and returns Kraken's ``result``, or
raises :class:`~engine.exchange.params.Reject`.  Charges follow the three steps of
:mod:`engine.exchange.matching`; the undocumented choices, all conservative (they charge
at least what Kraken might):

* CancelAll charges each pair ``min(sum of the removed orders' cancel penalties, max)``;
  the dead-man switch, when it fires, charges the same.
* An amend of an unknown id charges its fixed part to the pair of the order the id last
  named (a filled or cancelled order); an id never seen charges nothing (no pair).
* ``EOrder:Orders limit exceeded`` is an order check: the fixed part is charged.
* ``validate=true`` runs every check but the rate check and charges nothing.

EditOrder follows Kraken's REST documentation: ``txid`` names the order by txid or by a
``userref`` that must name exactly one open order; the new order carries the request's
``userref`` (``newuserref`` is read as its older name) and *not* the old order's; the reply
carries ``"status": "ok"``; ``cl_ord_id`` is not supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.exchange import penalties as pen
from engine.exchange import replies as ke
from engine.exchange.events import CancelReason
from engine.exchange.matching import MatchingEngine, order_age
from engine.exchange.orders import describe
from engine.exchange.params import (
    OrderSpec,
    Reject,
    invalid,
    parse_bool,
    parse_decimal,
    parse_oflags,
    parse_order_spec,
    parse_userref,
    parse_volume,
)
from engine.exchange.times import rfc3339

__all__ = [
    "add_order",
    "add_order_batch",
    "amend_order",
    "cancel_all",
    "cancel_all_after",
    "cancel_order",
    "cancel_order_batch",
    "edit_order",
]

_ZERO = Decimal(0)


def _unknown_order() -> None:
    raise Reject(ke.UNKNOWN_ORDER)


def add_order(x: MatchingEngine, params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """AddOrder: +1 (fixed), charged even when the order checks fail."""
    market = x.market_of(params)
    x.stats.touch(market.name, now)
    x.check_deadline(params, now)
    spec = parse_order_spec(params, market, now=now, epoch=x.epoch)
    x.check_cl_ord_ids((spec,))
    if parse_bool(params.get("validate", False), "validate"):
        x.check_new([spec])
        return {"descr": {"order": describe(spec)}}
    x.transact(market, pen.ADD.fixed, pen.ADD.fixed, now, lambda: x.check_new([spec]))
    order = x.place(spec, now)
    return {"descr": {"order": describe(order)}, "txid": [order.txid]}


def add_order_batch(x: MatchingEngine, params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """AddOrderBatch: 2..15 orders of one pair, ``ceil(n/2)`` (fixed); all or nothing."""
    market = x.market_of(params)
    x.stats.touch(market.name, now)
    x.check_deadline(params, now)
    raw = params.get("orders")
    if (
        not isinstance(raw, list | tuple)
        or not pen.BATCH_ADD_MIN <= len(raw) <= pen.BATCH_ADD_MAX
        or not all(isinstance(o, Mapping) for o in raw)
    ):
        raise invalid("orders")
    specs: list[OrderSpec] = []
    for entry in raw:
        if entry.get("pair") not in (None, "") and x.markets.find(entry["pair"]) != market:
            raise invalid("pair")
        specs.append(parse_order_spec(entry, market, now=now, epoch=x.epoch))
    x.check_cl_ord_ids(specs)
    if parse_bool(params.get("validate", False), "validate"):
        x.check_new(specs)
        return {"orders": [{"descr": {"order": describe(s)}} for s in specs]}
    units = pen.batch_add_penalty(len(specs))
    x.transact(market, units, units, now, lambda: x.check_new(specs))
    placed = [x.place(s, now) for s in specs]
    return {"orders": [{"txid": o.txid, "descr": {"order": describe(o)}} for o in placed]}


def amend_order(x: MatchingEngine, params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """AmendOrder: in place, same txid; 1 + age part; the order's age restarts."""
    x.check_deadline(params, now)
    txid, cid = params.get("txid"), params.get("cl_ord_id")
    if (txid is None) == (cid is None):
        raise invalid("txid")
    order = x.open.get(txid) if isinstance(txid, str) else (
        x.by_cl_ord_id.get(cid) if isinstance(cid, str) else None
    )
    qty = params.get("order_qty")
    limit = params.get("limit_price")
    if qty in (None, "") and limit in (None, ""):
        raise invalid("order_qty")
    post_only = params.get("post_only", False)
    if post_only is not False:  # parse_bool(False) is False: only other values are parsed
        post_only = parse_bool(post_only, "post_only")
    if order is None:
        gone = x.closed.get(txid) if isinstance(txid, str) else None
        if gone is not None:
            x.stats.touch(gone.market.name, now)
            x.transact(gone.market, pen.AMEND.fixed, pen.AMEND.fixed, now, _unknown_order)
        raise Reject(ke.UNKNOWN_ORDER)
    m = order.market
    x.stats.touch(m.name, now)
    volume = parse_volume(qty, m, "order_qty") if qty not in (None, "") else order.volume
    price = parse_decimal(limit, "limit_price") if limit not in (None, "") else order.price
    spec = OrderSpec(m, order.side, order.ordertype, volume, price, None, None,
                     "post" if post_only or "post" in order.oflags.split(",") else "")
    units = pen.AMEND.at(order_age(order, now))
    x.transact(m, units, pen.AMEND.fixed, now, lambda: x.check_replacement(order, spec))
    x.unindex(order)
    order.volume, order.price = volume, price
    order.ticks = x.spec_ticks(spec) if price is not None else 0  # spec.price is price
    order.aged_at = now
    x.amended(order, now)
    if x.takes(order.side, order.ticks, m):
        x.fill(order, x.taker_price(order.side, m), now, maker=False)
    else:
        x.rest(order)
    return {"amend_id": x.ids.next("T")}


def edit_order(x: MatchingEngine, params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """EditOrder: cancel and replace with a new txid; 1 + age part; the age restarts."""
    market = x.market_of(params)
    x.stats.touch(market.name, now)
    x.check_deadline(params, now)
    if params.get("cl_ord_id") is not None:
        raise invalid("cl_ord_id")  # EditOrder has no cl_ord_id support
    ident = params.get("txid")
    if ident in (None, ""):
        raise invalid("txid")
    found = [o for o in x.resolve(ident) if o.market is market]
    volume, price = params.get("volume"), params.get("price")
    new_volume = parse_volume(volume, market) if volume not in (None, "") else None
    new_price = parse_decimal(price, "price") if price not in (None, "") else None
    userref = _edit_userref(params)
    validate = parse_bool(params.get("validate", False), "validate")
    if len(found) != 1:  # none, or a userref naming several orders: denied
        if not validate:
            x.transact(market, pen.EDIT.fixed, pen.EDIT.fixed, now, _unknown_order)
        raise Reject(ke.UNKNOWN_ORDER)
    old = found[0]
    oflags = params.get("oflags")
    spec = OrderSpec(
        market=market, side=old.side, ordertype=old.ordertype,
        volume=new_volume if new_volume is not None else old.volume,
        price=new_price if new_price is not None else old.price,
        userref=userref, cl_ord_id=old.cl_ord_id,
        oflags=parse_oflags(oflags, old.ordertype) if oflags is not None else old.oflags,
        timeinforce=old.timeinforce, expire_at=old.expire_at,
    )
    if validate:
        x.check_replacement(old, spec)
        return {"status": "ok", "descr": {"order": describe(spec)}}
    units = pen.EDIT.at(order_age(old, now))
    x.transact(market, units, pen.EDIT.fixed, now, lambda: x.check_replacement(old, spec))
    x.cancel(old, now, CancelReason.REPLACED)
    new = x.place(spec, now)
    return {
        "status": "ok",
        "txid": new.txid,
        "originaltxid": old.txid,
        "volume": market.format_volume(new.volume),
        "price": market.format_price(new.price or _ZERO),
        "price2": "0",
        "orders_cancelled": 1,
        "descr": {"order": describe(new)},
    }


def _edit_userref(params: Mapping[str, Any]) -> int | None:
    for field in ("userref", "newuserref"):
        if params.get(field) not in (None, ""):
            return parse_userref(params[field], field)
    return None


def cancel_order(x: MatchingEngine, params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """CancelOrder (by txid, userref or cl_ord_id): the cancel penalty by age (fixed 0)."""
    txid, cid = params.get("txid"), params.get("cl_ord_id")
    if (txid in (None, "")) == (cid in (None, "")):
        raise invalid("txid")
    orders = x.resolve(txid if txid not in (None, "") else cid)
    if not orders:
        raise Reject(ke.UNKNOWN_ORDER)
    units = x.cancel_units(orders, now)
    for name in units:
        x.stats.touch(name, now)
    for name, u in units.items():
        if not x.counter(x.markets.get(name), now).fits(u, now):
            raise Reject(ke.ORDER_RATE_LIMIT)
    x.cancel_and_charge(orders, units, now, CancelReason.REQUESTED)
    return {"count": len(orders)}


def cancel_order_batch(
    x: MatchingEngine, params: Mapping[str, Any], now: float
) -> dict[str, Any]:
    """CancelOrderBatch (1..50 ids): the sum of the cancel penalties, never refused."""
    ids: list[object] = []
    for field in ("orders", "cl_ord_ids"):
        raw = params.get(field)
        if raw is None:
            continue
        if not isinstance(raw, list | tuple):
            raise invalid(field)
        ids.extend(raw)
    if not 1 <= len(ids) <= pen.BATCH_CANCEL_MAX:
        raise invalid("orders")
    orders: dict[str, Any] = {}
    for ident in ids:
        for o in x.resolve(ident):
            orders[o.txid] = o
    if not orders:
        raise Reject(ke.UNKNOWN_ORDER)
    chosen = list(orders.values())
    units = x.cancel_units(chosen, now)
    for name in units:
        x.stats.touch(name, now)
    x.cancel_and_charge(chosen, units, now, CancelReason.REQUESTED)
    return {"count": len(chosen)}


def cancel_all(x: MatchingEngine, _params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """CancelAll: every open order; each pair charged its batch penalty, capped at max."""
    for name in {o.market.name for o in x.open.values()}:
        x.stats.touch(name, now)
    return {"count": x.cancel_everything(now, CancelReason.CANCEL_ALL)}


def cancel_all_after(x: MatchingEngine, params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """CancelAllOrdersAfter: arm (``timeout`` s) or disarm (0) the dead-man switch."""
    raw = params.get("timeout")
    try:
        timeout = int(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else -1
    except ValueError:
        timeout = -1
    if timeout < 0 or timeout > 86_400:
        raise invalid("timeout")
    wall = x.epoch + now
    x.dead_man_at = now + timeout if timeout else None
    return {
        "currentTime": rfc3339(wall),
        "triggerTime": rfc3339(wall + timeout) if timeout else "0",
    }
