"""Kraken's REST API-counter cost of each private endpoint (``kraken-rate-limits.md`` s.1).

* 2 units: ledger and trade-history calls, and OpenOrders / ClosedOrders (Kraken's own
  SDK charges 2 for those: conservative).
* 0 units: the order family (AddOrder, AddOrderBatch, AmendOrder, EditOrder, CancelOrder,
  CancelOrderBatch, CancelAll): they are charged on the trading counter instead.
* 1 unit: every other private call.

Public endpoints are not on this counter: they are limited per IP address (about one
request per second sustained), see :data:`PUBLIC_RATE_PER_SECOND`.
"""

from __future__ import annotations

from limiters.errors import UnknownEndpoint

__all__ = [
    "API_COSTS",
    "ORDER_ENDPOINTS",
    "PUBLIC_ENDPOINTS",
    "PUBLIC_RATE_PER_SECOND",
    "api_cost",
    "is_public",
]

#: Order-family endpoints: cost 0 on the API counter, charged on the trading counter.
ORDER_ENDPOINTS: frozenset[str] = frozenset(
    {
        "AddOrder", "AddOrderBatch", "AmendOrder", "EditOrder",
        "CancelOrder", "CancelOrderBatch", "CancelAll",
    }
)

#: API-counter cost of every private endpoint the engine knows.
API_COSTS: dict[str, int] = {
    **dict.fromkeys(ORDER_ENDPOINTS, 0),
    **dict.fromkeys(
        ("Ledgers", "QueryLedgers", "TradesHistory", "QueryTrades", "OpenOrders", "ClosedOrders"),
        2,
    ),
    **dict.fromkeys(
        (
            "Balance", "BalanceEx", "TradeBalance", "QueryOrders", "CancelAllOrdersAfter",
            "OpenPositions", "TradeVolume", "GetWebSocketsToken",
        ),
        1,
    ),
}

#: Public endpoints, limited per IP rather than per key.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset(
    {"Time", "SystemStatus", "Assets", "AssetPairs", "Ticker", "Depth", "OHLC", "Trades", "Spread"}
)

#: Public endpoints: about one request per second per IP, sustained (Cloudflare).
PUBLIC_RATE_PER_SECOND = 1.0


def api_cost(endpoint: str) -> int:
    """API-counter cost (units) of the private ``endpoint``; :class:`UnknownEndpoint` if unknown."""
    try:
        return API_COSTS[endpoint]
    except KeyError:
        raise UnknownEndpoint(endpoint) from None


def is_public(endpoint: str) -> bool:
    """Whether ``endpoint`` is a public (per-IP limited) endpoint."""
    return endpoint in PUBLIC_ENDPOINTS
