"""Read-only private queries: OpenOrders, ClosedOrders, QueryOrders, Balance, BalanceEx,
TradeBalance, TradesHistory, QueryTrades.

Each function takes the :class:`~engine.exchange.matching.MatchingEngine` and the request
``params`` and returns Kraken's ``result`` (or raises :class:`Reject`).  Closed orders and
trades are those the engine still remembers (its ``closed_history`` most recent).  Amounts
are printed with each asset's decimals (10 for crypto, 4 for fiat), prices and costs with
the pair's.  Times are UNIX seconds (floats).  No fees are charged, so ``fee`` is 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.exchange import replies as ke
from engine.exchange.markets import asset_info
from engine.exchange.matching import MatchingEngine, OwnTrade
from engine.exchange.orders import Order, order_info
from engine.exchange.params import Reject, invalid, parse_bool, parse_userref

__all__ = [
    "balance",
    "balance_ex",
    "closed_orders",
    "open_orders",
    "query_orders",
    "query_trades",
    "trade_balance",
    "trades_history",
]

#: Ids per QueryOrders / QueryTrades, and the ClosedOrders / TradesHistory page size.
QUERY_MAX = 50

_ZERO = Decimal(0)


def _info(x: MatchingEngine, order: Order, trades: bool) -> dict[str, Any]:
    info = order_info(order, x.epoch)
    if trades and x.trades_of.get(order.txid):
        info["trades"] = list(x.trades_of[order.txid])
    return info


def _ofs(params: Mapping[str, Any]) -> int:
    try:
        ofs = int(params.get("ofs", 0) or 0)
    except (TypeError, ValueError):
        raise invalid("ofs") from None
    if ofs < 0:
        raise invalid("ofs")
    return ofs


def _time_bound(params: Mapping[str, Any], field: str) -> float | None:
    raw = params.get(field)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise invalid(field) from None


def _trades_flag(params: Mapping[str, Any]) -> bool:
    return parse_bool(params.get("trades", False), "trades")


def open_orders(x: MatchingEngine, params: Mapping[str, Any]) -> dict[str, Any]:
    """OpenOrders, optionally filtered by ``userref`` or ``cl_ord_id``."""
    ref = parse_userref(params["userref"]) if params.get("userref") not in (None, "") else None
    cid = params.get("cl_ord_id")
    trades = _trades_flag(params)
    out = {
        o.txid: _info(x, o, trades)
        for o in x.open.values()
        if (ref is None or o.userref == ref) and (cid in (None, "") or o.cl_ord_id == cid)
    }
    return {"open": out}


def closed_orders(x: MatchingEngine, params: Mapping[str, Any]) -> dict[str, Any]:
    """ClosedOrders: most recent first, 50 per page from ``ofs``; ``start``/``end`` (UNIX s)
    bound the close times, ``userref``/``cl_ord_id`` filter."""
    ofs = _ofs(params)
    start, end = _time_bound(params, "start"), _time_bound(params, "end")
    ref = parse_userref(params["userref"]) if params.get("userref") not in (None, "") else None
    cid = params.get("cl_ord_id")
    trades = _trades_flag(params)
    chosen = [
        o for o in reversed(x.closed.values())
        if (start is None or x.epoch + (o.closed_at or 0.0) >= start)
        and (end is None or x.epoch + (o.closed_at or 0.0) <= end)
        and (ref is None or o.userref == ref) and (cid in (None, "") or o.cl_ord_id == cid)
    ]
    return {
        "closed": {o.txid: _info(x, o, trades) for o in chosen[ofs:ofs + QUERY_MAX]},
        "count": len(chosen),
    }


def query_orders(x: MatchingEngine, params: Mapping[str, Any]) -> dict[str, Any]:
    """QueryOrders by ``txid`` (comma-separated, up to 50), ``cl_ord_id`` or ``userref``."""
    raw = params.get("txid")
    cid = params.get("cl_ord_id")
    trades = _trades_flag(params)
    known = [*x.open.values(), *x.closed.values()]
    if raw in (None, "") and cid not in (None, ""):
        found = {o.txid: _info(x, o, trades) for o in known if o.cl_ord_id == cid}
        if not found:
            raise Reject(ke.UNKNOWN_ORDER)
        return found
    if raw in (None, ""):
        if params.get("userref") in (None, ""):
            raise invalid("txid")
        ref = parse_userref(params["userref"])
        return {o.txid: _info(x, o, trades) for o in known if o.userref == ref}
    ids = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(ids, list | tuple) or not 1 <= len(ids) <= QUERY_MAX:
        raise invalid("txid")
    out: dict[str, Any] = {}
    for ident in ids:
        key = str(ident).strip()
        order = x.open.get(key) or x.closed.get(key) or x.by_cl_ord_id.get(key)
        if order is None:
            raise Reject(ke.UNKNOWN_ORDER)
        out[order.txid] = _info(x, order, trades)
    return out


def _amount(asset: str, value: Decimal) -> str:
    return f"{value:.{asset_info(asset).decimals}f}"


def balance(x: MatchingEngine, _params: Mapping[str, Any]) -> dict[str, str]:
    """Balance: every asset's total (held amounts included)."""
    return {a: _amount(a, v) for a, v in x.account.balances.items()}


def balance_ex(x: MatchingEngine, _params: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """BalanceEx: per asset, ``balance`` (total) and ``hold_trade`` (held by open orders)."""
    return {
        a: {"balance": _amount(a, v), "hold_trade": _amount(a, x.account.reserved.get(a, _ZERO))}
        for a, v in x.account.balances.items()
    }


def _value_in(x: MatchingEngine, asset: str, target: str) -> Decimal | None:
    """What one unit of ``asset`` is worth in ``target`` at the market price (None: no pair)."""
    if asset == target:
        return Decimal(1)
    for m in x.markets:
        if m.base == asset and m.quote == target:
            return x.price(m)
        if m.base == target and m.quote == asset:
            return 1 / x.price(m)
    return None


def trade_balance(x: MatchingEngine, params: Mapping[str, Any]) -> dict[str, str]:
    """TradeBalance in ``asset`` (default ZUSD): ``eb`` every asset valued at the market price
    (assets with no pair to ``asset`` count 0), ``tb`` = ``e`` = ``mf`` = ``eb`` (no margin
    is modelled), the margin fields 0."""
    target = params.get("asset") or "ZUSD"
    if not isinstance(target, str) or (target not in x.account.balances and target not in {
        a for m in x.markets for a in (m.base, m.quote)
    }):
        raise Reject(ke.UNKNOWN_ASSET)
    total = _ZERO
    for asset, amount in x.account.balances.items():
        rate = _value_in(x, asset, target)
        if rate is not None:
            total += amount * rate
    dec = asset_info(target).decimals
    text, zero = f"{total:.{dec}f}", f"{_ZERO:.{dec}f}"
    return {"eb": text, "tb": text, "m": zero, "uv": zero, "n": zero, "c": zero, "v": zero,
            "e": text, "mf": text}


def _trade_info(x: MatchingEngine, t: OwnTrade) -> dict[str, Any]:
    o, m = t.order, t.order.market
    return {
        "ordertxid": o.txid,
        "postxid": "P" + t.txid[1:],
        "pair": m.rest_name,
        "time": x.epoch + t.time,
        "type": o.side,
        "ordertype": o.ordertype,
        "price": m.format_price(t.price),
        "cost": m.format_cost(t.price * t.volume),
        "fee": m.format_cost(_ZERO),
        "vol": m.format_volume(t.volume),
        "margin": m.format_cost(_ZERO),
        "leverage": "0",
        "misc": "",
        "trade_id": t.trade_id,
        "maker": t.maker,
    }


def trades_history(x: MatchingEngine, params: Mapping[str, Any]) -> dict[str, Any]:
    """TradesHistory: the account's executions, most recent first, 50 per page from ``ofs``;
    ``start``/``end`` (UNIX s) bound their times."""
    ofs = _ofs(params)
    start, end = _time_bound(params, "start"), _time_bound(params, "end")
    chosen = [
        t for t in reversed(x.trades.values())
        if (start is None or x.epoch + t.time >= start) and (end is None or x.epoch + t.time <= end)
    ]
    return {"trades": {t.txid: _trade_info(x, t) for t in chosen[ofs:ofs + QUERY_MAX]},
            "count": len(chosen)}


def query_trades(x: MatchingEngine, params: Mapping[str, Any]) -> dict[str, Any]:
    """QueryTrades by ``txid`` (comma-separated trade ids, up to 50)."""
    raw = params.get("txid")
    ids = raw.split(",") if isinstance(raw, str) and raw else raw
    if not isinstance(ids, list | tuple) or not 1 <= len(ids) <= QUERY_MAX:
        raise invalid("txid")
    out: dict[str, Any] = {}
    for ident in ids:
        t = x.trades.get(str(ident).strip())
        if t is None:
            raise invalid("txid")
        out[t.txid] = _trade_info(x, t)
    return out
