"""Turning intents into Kraken requests, and Kraken replies into ids.

Parameters follow Kraken's REST reference (``kraken-rate-limits.md`` section 5).  Prices
and volumes are sent as plain decimal strings (``format(d, "f")``), never in exponent form.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Query,
    QueryBalance,
    QueryClosedOrders,
    QueryOpenOrders,
    QueryOrders,
)

__all__ = [
    "add_order_fields",
    "add_order_params",
    "add_request",
    "amend_params",
    "change_request",
    "edit_params",
    "query_request",
    "reply_txids",
]


def dec(d: Decimal) -> str:
    """A Decimal as Kraken wants it: fixed point, no exponent."""
    return format(d, "f")


def add_order_fields(intent: AddOrder) -> dict[str, Any]:
    """The per-order fields of an AddOrder (also one entry of AddOrderBatch's ``orders``)."""
    p: dict[str, Any] = {
        "type": intent.side.value,
        "ordertype": intent.order_type.value,
        "volume": dec(intent.volume),
        "cl_ord_id": intent.cl_ord_id,
    }
    if intent.price is not None:
        p["price"] = dec(intent.price)
    if intent.post_only:
        p["oflags"] = "post"
    if intent.time_in_force.value != "GTC":
        p["timeinforce"] = intent.time_in_force.value
    if intent.userref is not None:
        p["userref"] = str(intent.userref)
    return p


def add_order_params(intent: AddOrder, rest_pair: str) -> dict[str, Any]:
    """AddOrder's parameters, with the pair in the venue's REST spelling."""
    p = add_order_fields(intent)
    p["pair"] = rest_pair
    return p


def amend_params(intent: AmendOrder, ref: str, *, by_cl_ord_id: bool) -> dict[str, Any]:
    """AmendOrder: ``order_qty`` / ``limit_price`` by ``txid`` or ``cl_ord_id``."""
    p: dict[str, Any] = {"cl_ord_id" if by_cl_ord_id else "txid": ref}
    if intent.volume is not None:
        p["order_qty"] = dec(intent.volume)
    if intent.price is not None:
        p["limit_price"] = dec(intent.price)
    return p


def edit_params(intent: EditOrder, txid: str, rest_pair: str) -> dict[str, Any]:
    """EditOrder (txid only: Kraken's EditOrder has no cl_ord_id support)."""
    p: dict[str, Any] = {"txid": txid, "pair": rest_pair}
    if intent.volume is not None:
        p["volume"] = dec(intent.volume)
    if intent.price is not None:
        p["price"] = dec(intent.price)
    return p


def add_request(intent: AddOrder | AddOrderBatch, rest_pair: str,
                ) -> tuple[str, dict[str, Any], tuple[AddOrder, ...]]:
    """Endpoint, parameters and orders of an add (AddOrder, or AddOrderBatch: one pair)."""
    if isinstance(intent, AddOrderBatch):
        orders = intent.orders
        return "AddOrderBatch", {"pair": rest_pair,
                                 "orders": [add_order_fields(o) for o in orders]}, orders
    return "AddOrder", add_order_params(intent, rest_pair), (intent,)


def change_request(intent: AmendOrder | EditOrder | CancelOrder, ref: str, *, has_txid: bool,
                   rest_pair: str) -> tuple[str, dict[str, Any]]:
    """Endpoint and parameters of a cancel, amend or edit of the order ``ref`` (its txid
    when ``has_txid``, else its cl_ord_id)."""
    if isinstance(intent, CancelOrder):
        return "CancelOrder", {"txid": ref}
    if isinstance(intent, AmendOrder):
        return "AmendOrder", amend_params(intent, ref, by_cl_ord_id=not has_txid)
    return "EditOrder", edit_params(intent, ref, rest_pair)


def query_request(intent: Query) -> tuple[str, dict[str, Any]]:
    """Endpoint and parameters of a private query (paced on the API counter)."""
    if isinstance(intent, QueryOpenOrders):
        return "OpenOrders", {}
    if isinstance(intent, QueryClosedOrders):
        return "ClosedOrders", {}
    if isinstance(intent, QueryOrders):
        return "QueryOrders", {"txid": ",".join(intent.order_ids)}
    if isinstance(intent, QueryBalance):
        return "Balance", {}
    if isinstance(intent, CancelAllOrdersAfter):
        return "CancelAllOrdersAfter", {"timeout": str(intent.timeout)}
    raise TypeError(f"not a query: {intent!r}")


def reply_txids(result: Mapping[str, Any] | None) -> list[str]:
    """The txids in an AddOrder / EditOrder / AddOrderBatch result."""
    if not result:
        return []
    txid = result.get("txid")
    if isinstance(txid, str):
        return [txid]
    if isinstance(txid, list):
        return [t for t in txid if isinstance(t, str)]
    orders = result.get("orders")
    if isinstance(orders, list):
        return [o["txid"] for o in orders if isinstance(o, dict) and isinstance(o.get("txid"), str)]
    return []
