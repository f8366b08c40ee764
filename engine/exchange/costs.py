"""What each private REST call charges the key's API counter (kraken-rate-limits.md s.1).

* 2 units: ledger and trade-history calls (Ledgers, QueryLedgers, TradesHistory,
  QueryTrades), and OpenOrders / ClosedOrders (Kraken's own SDK charges them 2: the
  conservative reading);
* 0 units: the order endpoints (AddOrder, AddOrderBatch, AmendOrder, EditOrder,
  CancelOrder, CancelOrderBatch, CancelAll), charged on the trading counter instead;
* 1 unit: every other private call (Balance, BalanceEx, TradeBalance, QueryOrders,
  CancelAllOrdersAfter, ...).

Public endpoints charge no API counter: they are limited per IP address, about one
request per second sustained (over it: ``EGeneral:Too many requests``).  The referee's
own table, written from the rules document, independently of ``limiters``.
"""

from __future__ import annotations

__all__ = ["ORDER_ENDPOINTS", "TWO_UNIT_ENDPOINTS", "api_cost"]

#: Endpoints charged 0 on the API counter (they go on the trading counter).
ORDER_ENDPOINTS: frozenset[str] = frozenset({
    "AddOrder", "AddOrderBatch", "AmendOrder", "EditOrder", "CancelOrder",
    "CancelOrderBatch", "CancelAll",
})

#: Endpoints charged 2 units.
TWO_UNIT_ENDPOINTS: frozenset[str] = frozenset({
    "Ledgers", "QueryLedgers", "TradesHistory", "QueryTrades", "OpenOrders", "ClosedOrders",
})


def api_cost(endpoint: str) -> int:
    """Units the private call ``endpoint`` adds to its key's API counter."""
    if endpoint in ORDER_ENDPOINTS:
        return 0
    return 2 if endpoint in TWO_UNIT_ENDPOINTS else 1
