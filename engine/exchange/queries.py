"""Read-only order and balance queries: OpenOrders, ClosedOrders, QueryOrders, Balance.

Each function takes the :class:`~engine.exchange.matching.MatchingEngine` and the request
``params`` and returns Kraken's ``result`` (or raises :class:`Reject`).  Closed orders are
those the engine still remembers (its ``closed_history`` most recent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine import kraken_errors as ke
from engine.exchange.matching import MatchingEngine
from engine.exchange.orders import order_info
from engine.exchange.params import Reject, invalid, parse_userref

__all__ = ["balance", "closed_orders", "open_orders", "query_orders"]

#: Ids per QueryOrders, and ClosedOrders page size (Kraken's).
QUERY_MAX = 50


def open_orders(engine: MatchingEngine, params: Mapping[str, Any]) -> dict[str, Any]:
    """OpenOrders, optionally filtered by ``userref`` or ``cl_ord_id``."""
    ref = parse_userref(params["userref"]) if params.get("userref") not in (None, "") else None
    cid = params.get("cl_ord_id")
    out = {
        o.txid: order_info(o, engine.epoch)
        for o in engine.open.values()
        if (ref is None or o.userref == ref) and (cid in (None, "") or o.cl_ord_id == cid)
    }
    return {"open": out}


def closed_orders(engine: MatchingEngine, params: Mapping[str, Any]) -> dict[str, Any]:
    """ClosedOrders: most recent first, 50 per page from ``ofs``."""
    try:
        ofs = int(params.get("ofs", 0) or 0)
    except (TypeError, ValueError):
        raise invalid("ofs") from None
    if ofs < 0:
        raise invalid("ofs")
    recent = list(reversed(engine.closed.values()))[ofs:ofs + QUERY_MAX]
    return {
        "closed": {o.txid: order_info(o, engine.epoch) for o in recent},
        "count": len(engine.closed),
    }


def query_orders(engine: MatchingEngine, params: Mapping[str, Any]) -> dict[str, Any]:
    """QueryOrders by ``txid`` (comma-separated, up to 50), ``cl_ord_id`` or ``userref``."""
    raw = params.get("txid")
    cid = params.get("cl_ord_id")
    if raw in (None, "") and cid not in (None, ""):
        known = [*engine.open.values(), *engine.closed.values()]
        found = {o.txid: order_info(o, engine.epoch) for o in known if o.cl_ord_id == cid}
        if not found:
            raise Reject(ke.UNKNOWN_ORDER)
        return found
    if raw in (None, ""):
        if params.get("userref") in (None, ""):
            raise invalid("txid")
        ref = parse_userref(params["userref"])
        known = list(engine.open.values()) + list(engine.closed.values())
        return {o.txid: order_info(o, engine.epoch) for o in known if o.userref == ref}
    ids = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(ids, list | tuple) or not 1 <= len(ids) <= QUERY_MAX:
        raise invalid("txid")
    out: dict[str, Any] = {}
    for ident in ids:
        key = str(ident).strip()
        order = engine.open.get(key) or engine.closed.get(key) or engine.by_cl_ord_id.get(key)
        if order is None:
            raise Reject(ke.UNKNOWN_ORDER)
        out[order.txid] = order_info(order, engine.epoch)
    return out


def balance(engine: MatchingEngine) -> dict[str, str]:
    """Balance: every asset's total (reserved included), ten decimals."""
    return {a: f"{v:.10f}" for a, v in engine.account.balances.items()}
